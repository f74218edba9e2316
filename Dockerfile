# syntax=docker/dockerfile:1
# athena-session-bot: multi-stage build on Node 22 (Debian slim). The native SQLite module is
# compiled in the build stage; the runtime stage has production dependencies only and runs
# `start` as a non-root user with the store on the /data volume.

FROM node:22-bookworm-slim AS build
WORKDIR /app
# Toolchain for better-sqlite3's node-gyp build.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# Install without running our own `prepare` yet (the sources are not copied); dependency
# install scripts (better-sqlite3's native build) still run.
RUN npm ci --ignore-scripts \
 && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev

# No fonts are installed (the slim image has none): the digest chart's font, Open Sans, is an
# npm dependency (@expo-google-fonts/open-sans) that the renderer loads by path.
FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production \
    DATABASE_PATH=/data/athena-session-bot.sqlite \
    PORT=3000
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY samples ./samples
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "dist/main.js"]
CMD ["start"]
