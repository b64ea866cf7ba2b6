# syntax=docker/dockerfile:1
# The seed's producer service (S11-S12) as a container: lagscale producer on port 8082.
# Build from the repository root: docker build -f docker/producer.Dockerfile -t lagscale-producer .

# --- build: compile TypeScript to dist/ with the dev dependencies ---
FROM node:22-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
RUN npm ci --no-audit --no-fund

# --- runtime: production dependencies and dist/ only, as the unprivileged node user ---
FROM node:22-slim AS runtime
ENV NODE_ENV=production \
    PORT=8082 \
    TOPIC=Topic_from_java
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist ./dist
# For MSK with IAM auth: KAFKA_COMMAND_CONFIG=/app/config/msk-iam.properties (the CDK app sets it).
COPY docker/msk-iam.properties ./config/msk-iam.properties
# 1000 is the image's unprivileged "node" user; numeric, so Kubernetes/ECS can verify runAsNonRoot.
USER 1000:1000
EXPOSE 8082
# Node's fetch: the slim image has no curl. The ALB/ECS health check uses the same path.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8082) + '/msk-producer-healthCheck').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/lagscale.js"]
CMD ["producer"]
