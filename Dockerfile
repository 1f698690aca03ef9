# The application image: nginx in front of the loanflow FastCGI pool, as on the local stack.
# PostgreSQL and Redis run as their own services (docker-compose.yml). Untested here: this
# machine has no Docker engine; keep it in step with the Makefile and scripts/stack.sh.
FROM debian:12-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
      build-essential pkg-config libfcgi-dev libpq-dev libjson-c-dev libjwt-dev libsodium-dev \
      libhiredis-dev zlib1g-dev nodejs npm ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
# deps are installed above; mark them so make does not run apt-get again
RUN mkdir -p build && touch build/.deps-installed && make loanflow loanctl static/vendor/chart.umd.min.js

FROM debian:12-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
      libfcgi0ldbl libpq5 libjson-c5 libjwt0 libsodium23 libhiredis0.14 nginx-light curl \
      && rm -rf /var/lib/apt/lists/* \
      && useradd --system --home /srv/loanflow loanflow
WORKDIR /srv/loanflow
COPY --from=build /src/loanflow /src/loanctl ./
COPY --from=build /src/templates ./templates
COPY --from=build /src/static ./static
COPY --from=build /src/sql ./sql
COPY --from=build /src/nginx ./nginx
COPY --from=build /src/data ./data
COPY scripts/container-start.sh ./container-start.sh
COPY scripts/nginx-render.sh ./nginx-render.sh
ENV FCGI_SOCKET=/run/loanflow/loanflow.sock \
    FCGI_AUTH_SOCKET=/run/loanflow/loanflow-auth.sock \
    TEMPLATE_DIR=/srv/loanflow/templates \
    LOANFLOW_SQL_DIR=/srv/loanflow/sql \
    PORT=5003
EXPOSE 5003
HEALTHCHECK --interval=10s --timeout=3s CMD curl -fsS http://127.0.0.1:5003/ || exit 1
CMD ["./container-start.sh"]
