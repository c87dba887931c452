# GET /db: the PostgreSQL server named by DB_HOST (running_calendar's accessory), as this app
# reaches it: user postgres (or POSTGRES_USER), POSTGRES_PASSWORD, POSTGRES_DB. 503 when unreachable.
class DbController < ApplicationController
  def show
    require "pg"
    conn = PG.connect(host: ENV.fetch("DB_HOST"), user: ENV.fetch("POSTGRES_USER", "postgres"),
                      password: ENV["POSTGRES_PASSWORD"], dbname: ENV.fetch("POSTGRES_DB", "postgres"), connect_timeout: 3)
    row = conn.exec("select current_database() as db, current_setting('server_version') as version, inet_server_addr()::text as addr").first
    conn.close
    render json: { db_host: ENV["DB_HOST"], database: row["db"], server_version: row["version"], server_addr: row["addr"] }
  rescue KeyError, LoadError, PG::Error => e
    render json: { db_host: ENV["DB_HOST"], error: "#{e.class}: #{e.message}" }, status: :service_unavailable
  end
end
