# syntax=docker/dockerfile:1
# One image for both sides: `docker run IMAGE dispatcher` or `docker run IMAGE executor`.

# The Node.js image both stages start from. Another one with the same layout (node and npm on PATH,
# a user 1000, apt-get) can stand in: `docker build --build-arg NODE_IMAGE=my-mirror/node:24 .`
ARG NODE_IMAGE=node:24-bookworm-slim

# Build: compile the TypeScript with every dependency present.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Scripts off: `prepare` would build before the sources are here.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY core core
COPY dispatcher dispatcher
COPY executor executor
COPY cli cli
COPY client client
COPY build build
RUN npm run build

# Runtime: production dependencies and the compiled code only.
FROM ${NODE_IMAGE} AS runtime
# tini as PID 1 forwards SIGTERM to node and reaps the local runtime's orphaned script processes.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist dist
# `kube-worker` on the PATH: the init container that fetches a script pod's packages runs `kube-worker fetch`.
RUN chmod 755 dist/cli/main.js && ln -s /app/dist/cli/main.js /usr/local/bin/kube-worker
# The node image's unprivileged user, by number so that Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
# The API (PORT) and an executor's metrics (KUBE_WORKER_METRICS_PORT).
EXPOSE 8080 9464
# Every server command listens on 127.0.0.1 unless told otherwise; in a container it must be every interface.
ENV HOST=0.0.0.0
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/cli/main.js"]
CMD ["dispatcher"]
