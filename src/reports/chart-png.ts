import { createRequire } from 'node:module';
import type { TopLevelSpec } from 'vega-lite';
import { readFontMetrics, type FontMetrics } from './font-metrics.js';

const require = createRequire(import.meta.url);

/** The family every chart's text is drawn in (a spec's own font setting is overridden). */
export const CHART_FONT = 'Open Sans';

/**
 * The fonts charts are drawn with, bundled as an npm dependency: the renderer never looks at
 * the machine's fonts, so a chart looks the same on a laptop, in CI and in the slim Docker
 * image (which has none).
 */
function chartFontFiles(): { regular: string; bold: string } {
  return {
    regular: require.resolve('@expo-google-fonts/open-sans/400Regular/OpenSans_400Regular.ttf'),
    bold: require.resolve('@expo-google-fonts/open-sans/700Bold/OpenSans_700Bold.ttf'),
  };
}

export interface PngOptions {
  /** Pixels per chart unit: above 1 keeps text sharp when Slack scales the image to its preview. */
  scale?: number;
}

type Vega = typeof import('vega');
type TextItem = { fontWeight?: string | number; fontSize?: number };
type TextMeasure = { textMetrics: { width: (item: TextItem, text: unknown) => number }; fontSize: (item: TextItem) => number };
let loaded: Promise<{ vega: Vega; compile: typeof import('vega-lite').compile; Resvg: typeof import('@resvg/resvg-js').Resvg; fonts: { regular: string; bold: string } }> | undefined;

/** Loads the drawing libraries once, on the first chart, and teaches Vega the bundled font's widths. */
function libraries() {
  loaded ??= Promise.all([import('vega-lite'), import('vega')]).then(([{ compile }, vega]) => {
    const fonts = chartFontFiles();
    const metrics: Record<'regular' | 'bold', FontMetrics> = { regular: readFontMetrics(fonts.regular), bold: readFontMetrics(fonts.bold) };
    // Exported by vega-scenegraph but missing from vega's type declarations.
    const scenegraph = vega as unknown as TextMeasure;
    scenegraph.textMetrics.width = (item, text) => {
      const bold = item.fontWeight === 'bold' || Number(item.fontWeight) >= 600;
      return (bold ? metrics.bold : metrics.regular).width(String(text ?? ''), scenegraph.fontSize(item));
    };
    return { vega, compile, Resvg: (require('@resvg/resvg-js') as typeof import('@resvg/resvg-js')).Resvg, fonts };
  });
  // A failed load is not remembered: the next chart tries again.
  loaded.catch(() => (loaded = undefined));
  return loaded;
}

/** The SVG Vega draws for a Vega-Lite spec, in the chart font (the first step of `renderPng`). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const { vega, compile } = await libraries();
  const view = new vega.View(vega.parse(compile(spec, { config: { font: CHART_FONT } }).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Draws a Vega-Lite spec to PNG bytes: Vega-Lite → Vega → SVG (Vega's headless renderer) →
 * PNG (resvg). The libraries are loaded on the first call, so commands that never draw do not
 * pay for loading them.
 */
export async function renderPng(spec: TopLevelSpec, o: PngOptions = {}): Promise<Buffer> {
  const { Resvg, fonts } = await libraries();
  const svg = await renderSvg(spec);
  const image = new Resvg(svg, {
    font: { loadSystemFonts: false, fontFiles: [fonts.regular, fonts.bold], defaultFontFamily: CHART_FONT, sansSerifFamily: CHART_FONT },
    fitTo: { mode: 'zoom', value: o.scale ?? 1.5 },
    background: 'white',
    logLevel: 'off',
  });
  return image.render().asPng();
}
