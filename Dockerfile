# One image for every role: the command picks it (serve --ingress, serve --worker, migrate).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production TURBO_TELEMETRY_DISABLED=1
COPY package.json package-lock.json .npmrc ./
COPY apps/bridge/package.json apps/bridge/package.json
COPY apps/cli/package.json apps/cli/package.json
COPY apps/dashboard/package.json apps/dashboard/package.json
COPY apps/ingress/package.json apps/ingress/package.json
COPY apps/worker/package.json apps/worker/package.json
COPY packages/batch/package.json packages/batch/package.json
COPY packages/config/package.json packages/config/package.json
COPY packages/contract/package.json packages/contract/package.json
COPY packages/db/package.json packages/db/package.json
COPY packages/metrics/package.json packages/metrics/package.json
COPY packages/queue/package.json packages/queue/package.json
COPY packages/testing/package.json packages/testing/package.json
RUN npm ci --include=dev
COPY . .
RUN npm run build && npm prune --omit=dev
USER node
EXPOSE 8080
ENTRYPOINT ["node", "apps/cli/dist/ticketflow.mjs"]
CMD ["serve"]
