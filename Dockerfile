# syntax=docker/dockerfile:1
# One image for every trip-saga process (booking services, workers, relay, notifications, API);
# docker-compose.yml picks the process with `command`. Three stages: full install + build,
# production-only install, and a slim runtime that runs as the unprivileged `node` user.
ARG NODE_IMAGE=node:20.18.1-bookworm-slim

# better-sqlite3 and the Temporal core bridge are native modules: compile tools live here only.
FROM ${NODE_IMAGE} AS toolchain
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./

FROM toolchain AS build
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts ./scripts
# tsc -p tsconfig.build.json (dist/src/**) + bundleWorkflowCode (dist/workflow-bundle.js).
RUN npm run build

FROM toolchain AS prod-deps
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0
WORKDIR /app
COPY --chown=node:node package.json package-lock.json ./
COPY --from=prod-deps --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node examples ./examples
USER node
# Default process: a Temporal worker using the prebuilt workflow bundle.
CMD ["node", "dist/src/workers/worker.js"]
