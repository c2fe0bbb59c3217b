# Production image: one image for the web and the worker processes.
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN node ace build

FROM node:24-bookworm-slim AS runtime
RUN apt-get update \
  && apt-get install -y --no-install-recommends ffmpeg fonts-dejavu-core ca-certificates \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3333 NODE_OPTIONS=--max-semi-space-size=1
WORKDIR /app
COPY --from=build /src/build ./
RUN npm ci --omit=dev --no-audit --no-fund
USER node
EXPOSE 3333
CMD ["node", "bin/server.js"]
