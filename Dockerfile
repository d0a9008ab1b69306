# provisioning's image: the worker (default command) and the REST API (`api`) of the compose
# deployment. Multi-stage: dependencies and the build (with the prebuilt workflow bundle),
# then a slim runtime with the production dependencies only, as the non-root user "node".
#
#   docker build -t provisioning .
#   docker build --build-arg NODE_IMAGE=my-registry/node:20-bookworm-slim -t provisioning .
#
# The base must be Debian-based with Node.js 20 (the official node image's layout: user node,
# uid 1000). Built with the classic builder or BuildKit alike.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY tsconfig.json tsconfig.build.json ./
COPY bin bin
COPY scripts/build-cli.mjs scripts/build-workflow-bundle.mjs scripts/
COPY src src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund --loglevel=error

FROM ${NODE_IMAGE} AS runtime
LABEL provisioning.image=true org.opencontainers.image.title=provisioning
# busybox-static builds the local base image of test environments when the engine lacks it.
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends busybox-static ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    PROVISIONING_HOME=/home/node/.provisioning \
    PROVISIONING_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY --from=build /app/bin bin
COPY examples examples
RUN ln -s /app/bin/provisioning.js /usr/local/bin/provisioning && chmod 755 /app/bin/provisioning.js
USER node
ENTRYPOINT ["provisioning"]
CMD ["worker"]
