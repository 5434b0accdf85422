# One image for every TaskTracker service: `tasktracker <service>` picks which.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin tasktracker \
 && strip target/release/tasktracker

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /app --create-home tasktracker
COPY --from=build /src/target/release/tasktracker /usr/local/bin/tasktracker
COPY supergraph.graphql /app/supergraph.graphql
USER tasktracker
WORKDIR /app
ENV HOST=0.0.0.0 TASKTRACKER_DATA_DIR=/app/data LOG_FORMAT=json
ENTRYPOINT ["tasktracker"]
