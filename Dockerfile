# syntax=docker/dockerfile:1
# One build for all three services: the stages up to `runtime` are shared (and cached once),
# and each service is a thin target on top of it:
#   docker build --target order -t shop-order .      (docker compose build does all three)
# Node: the current LTS, on Debian slim (glibc, matching the linux-*-gnu binaries in the lockfile).

FROM node:24-bookworm-slim AS base
WORKDIR /app

# `npm ci`: exactly the versions in package-lock.json, which lists every platform's optional
# builds (@swc/core-*, @unrs/resolver-binding-*), so it installs the linux-*-gnu ones here.
FROM base AS deps
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund

# `nest build` compiles apps/, libs/ and tools/ into dist/ in one go (dist/apps/<app>/src/main.js,
# dist/libs/..., dist/tools/...). .dockerignore is an allowlist, so `COPY . .` brings only the
# sources and build config, never tests, docs or a local .env.
FROM deps AS build
COPY . .
RUN npm run build

# Runtime dependencies only: the targets below never see jest, swc, eslint or the Nest CLI.
FROM base AS prod-deps
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund

FROM base AS runtime
ENV NODE_ENV=production
# package.json gives "type": "module", without which node would load dist/ as CommonJS.
COPY package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The files stay root-owned, so the service cannot rewrite its own code.
USER node
# node runs as PID 1 with no init: fine, because runService handles SIGTERM/SIGINT itself
# (drain consumers, close, exit 0).
# /health/ready checks the broker and the database. Slim images have no curl; node has fetch.
# HTTP_PORT is set by each target below, so one probe serves all three.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.HTTP_PORT + '/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

FROM runtime AS order
ENV HTTP_PORT=3001
EXPOSE 3001
CMD ["node", "dist/apps/order/src/main.js"]

FROM runtime AS inventory
ENV HTTP_PORT=3002
EXPOSE 3002
CMD ["node", "dist/apps/inventory/src/main.js"]

FROM runtime AS notification
ENV HTTP_PORT=3003
EXPOSE 3003
CMD ["node", "dist/apps/notification/src/main.js"]
