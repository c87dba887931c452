# The stand-in as an app repository's own Dockerfile (a Rails app's layout: Dockerfile at the root
# beside app/, config/, bin/, db/). test/e2e/support/rails-repo.ts materialises app/ plus this file
# as a git repository so a deploy builds the app's code from its own folder and commit.
# The package layer is the same instruction as ./Dockerfile's, so Docker's layer cache shares it.
FROM berth/debian:trixie

RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \
    rm -f /etc/apt/apt.conf.d/docker-clean; \
    apt-get update -qq && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      ruby ruby-rails ruby-sqlite3 puma curl ca-certificates sqlite3 tzdata >/dev/null

# PostgreSQL client library and psql (running_calendar's Dockerfile has them): a layer of its own, so
# the one above stays shared with ./Dockerfile.
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \
    apt-get update -qq && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ruby-pg postgresql-client >/dev/null

RUN groupadd --system --gid 1000 rails && \
    useradd rails --uid 1000 --gid 1000 --create-home --shell /bin/bash

WORKDIR /rails
ENV RAILS_ENV=production \
    PORT=80 \
    RAILS_LOG_TO_STDOUT=1

COPY --chown=rails:rails . /rails/
RUN mkdir -p /rails/storage /rails/tmp/pids /rails/log && \
    chown -R rails:rails /rails/db /rails/storage /rails/tmp /rails/log
ARG RELEASE=dev
ENV RELEASE=${RELEASE}

USER 1000:1000
VOLUME /rails/storage
EXPOSE 80
ENTRYPOINT ["/rails/bin/docker-entrypoint"]
CMD ["./bin/rails", "server"]
