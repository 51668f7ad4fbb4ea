# One image for every role: the command picks it.
#   api:      node dist/apps/api/main.js            (default)
#   worker:   node dist/apps/worker/main.js
#   migrate:  node dist/apps/api/main.js migrate
#   all-in-one (PGlite, no Redis): node dist/apps/standalone/main.js
# The playground (dist/playground) is in the image but off with NODE_ENV=production: PLAYGROUND=on.

FROM node:24 AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json rspack.config.js ./
COPY scripts/node-version-check.js scripts/build-playground.mjs ./scripts/
COPY apps ./apps
COPY libs ./libs
COPY packages/client ./packages/client
RUN npm run build

FROM node:24-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY libs/events/migrations ./libs/events/migrations
# The standalone mode keeps its embedded database in ./.data; the image user must own it.
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
EXPOSE 3000
CMD ["node", "dist/apps/api/main.js"]
