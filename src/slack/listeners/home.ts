import type { App } from '@slack/bolt';
import type { Logger } from '../../util/logger.js';
import type { HomePublisher } from '../home/home-publisher.js';

export interface HomeDeps {
  home: HomePublisher;
  logger: Logger;
}

/** Opening the app's Home tab publishes it afresh, from the store (app_home_opened → views.publish). */
export function registerHome(app: App, deps: HomeDeps): void {
  app.event('app_home_opened', async ({ event }) => {
    // The Messages tab opens this event too; only the Home tab has a view to publish.
    if (event.tab !== 'home' || !event.user) return;
    try {
      await deps.home.publish(event.user);
    } catch (err) {
      deps.logger.error({ user: event.user, error: (err as Error).message }, 'App Home could not be built');
    }
  });
}
