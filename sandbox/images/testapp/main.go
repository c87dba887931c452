// testapp is Berth's sandbox test application: a tiny HTTP server whose
// behaviour (boot failures, health, SIGTERM handling) is switched by env so
// the deploy engine's end-to-end tests can exercise every path.
//
// Usage:
//
//	testapp            serve HTTP (same as "testapp serve")
//	testapp migrate    create/migrate the SQLite schema (release command)
//	testapp assets     write this release's fingerprinted assets (image build step)
//	testapp version    print the release
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	_ "modernc.org/sqlite"
)

var (
	release = envOr("RELEASE", "dev")
	logger  = log.New(os.Stdout, "", 0)
)

func envOr(k, def string) string {
	if v, ok := os.LookupEnv(k); ok && v != "" {
		return v
	}
	return def
}

func envInt(k string, def int) int {
	v := os.Getenv(k)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		logf("warning: %s=%q is not an integer, using %d", k, v, def)
		return def
	}
	return n
}

func logf(format string, args ...any) {
	logger.Printf("%s testapp[%s] %s", time.Now().UTC().Format(time.RFC3339Nano), release, fmt.Sprintf(format, args...))
}

func main() {
	cmd := "serve"
	if len(os.Args) > 1 {
		cmd = os.Args[1]
	}
	switch cmd {
	case "serve":
		os.Exit(serve())
	case "migrate":
		os.Exit(migrate())
	case "assets":
		dir := assetDir()
		if len(os.Args) > 2 {
			dir = os.Args[2]
		}
		os.Exit(writeAssets(dir))
	case "version", "--version":
		fmt.Println(release)
	default:
		fmt.Fprintf(os.Stderr, "usage: testapp [serve|migrate|assets [dir]|version]\n")
		os.Exit(2)
	}
}

// ---------------------------------------------------------------- database

const schema = `
CREATE TABLE IF NOT EXISTS rows (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  body TEXT NOT NULL,
  release TEXT NOT NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE TABLE IF NOT EXISTS migrations (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  release TEXT NOT NULL,
  applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
`

func dbPath() string { return envOr("DB_PATH", "/data/app.sqlite3") }

func openDB() (*sql.DB, error) {
	p := dbPath()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, err
	}
	dsn := "file:" + p + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(4)
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

var (
	dbOnce sync.Mutex
	dbConn *sql.DB
)

// getDB opens the database lazily so the server boots without a volume.
func getDB() (*sql.DB, error) {
	dbOnce.Lock()
	defer dbOnce.Unlock()
	if dbConn != nil {
		return dbConn, nil
	}
	db, err := openDB()
	if err != nil {
		return nil, err
	}
	dbConn = db
	return db, nil
}

func migrate() int {
	logf("migrate: starting (DB_PATH=%s)", dbPath())
	if os.Getenv("MIGRATE_FAIL") == "1" {
		logf("migrate: MIGRATE_FAIL=1, failing on purpose")
		return 1
	}
	db, err := openDB()
	if err != nil {
		logf("migrate: open: %v", err)
		return 1
	}
	defer db.Close()
	res, err := db.Exec(`INSERT INTO migrations (release) VALUES (?)`, release)
	if err != nil {
		logf("migrate: insert: %v", err)
		return 1
	}
	id, _ := res.LastInsertId()
	logf("migrate: done, migrations row %d", id)
	return 0
}

// ---------------------------------------------------------------- HTTP

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = 200
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

var inflight atomic.Int64

func withRelease(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inflight.Add(1)
		defer inflight.Add(-1)
		start := time.Now()
		w.Header().Set("X-Release", release)
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = 200
		}
		logf("%s %s %d %dB %.1fms from=%s", r.Method, r.URL.RequestURI(), sw.status, sw.bytes,
			float64(time.Since(start).Microseconds())/1000, r.RemoteAddr)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func dbError(w http.ResponseWriter, err error) {
	logf("database error: %v", err)
	writeJSON(w, http.StatusInternalServerError, map[string]any{"error": err.Error(), "release": release})
}

var writeCounter atomic.Int64

func routes() http.Handler {
	mux := http.NewServeMux()
	upStatus := envInt("UP_STATUS", 200)
	hostname, _ := os.Hostname()

	mux.HandleFunc("/up", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(upStatus)
		if upStatus >= 200 && upStatus < 300 {
			io.WriteString(w, "ok\n")
		} else {
			io.WriteString(w, "unhealthy\n")
		}
	})

	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "testapp release=%s host=%s\n", release, hostname)
	})

	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
		if ms < 0 {
			ms = 0
		}
		if ms > 30000 {
			ms = 30000
		}
		// Deliberately not cancelled by the client or by shutdown: an in-flight
		// request must finish so drain behaviour is observable.
		time.Sleep(time.Duration(ms) * time.Millisecond)
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "slept %dms release=%s\n", ms, release)
	})

	mux.HandleFunc("/write", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		body := strings.TrimSpace(string(b))
		if body == "" {
			body = strconv.FormatInt(writeCounter.Add(1), 10)
		}
		db, err := getDB()
		if err != nil {
			dbError(w, err)
			return
		}
		res, err := db.Exec(`INSERT INTO rows (body, release) VALUES (?, ?)`, body, release)
		if err != nil {
			dbError(w, err)
			return
		}
		id, _ := res.LastInsertId()
		writeJSON(w, http.StatusOK, map[string]any{"id": id, "release": release})
	})

	mux.HandleFunc("/count", func(w http.ResponseWriter, r *http.Request) {
		db, err := getDB()
		if err != nil {
			dbError(w, err)
			return
		}
		var n int64
		if err := db.QueryRow(`SELECT count(*) FROM rows`).Scan(&n); err != nil {
			dbError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"count": n, "release": release})
	})

	mux.HandleFunc("/rows", func(w http.ResponseWriter, r *http.Request) {
		after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
		db, err := getDB()
		if err != nil {
			dbError(w, err)
			return
		}
		q, err := db.Query(`SELECT id, body, release, created_at FROM rows WHERE id > ? ORDER BY id LIMIT 10000`, after)
		if err != nil {
			dbError(w, err)
			return
		}
		defer q.Close()
		type row struct {
			ID        int64  `json:"id"`
			Body      string `json:"body"`
			Release   string `json:"release"`
			CreatedAt string `json:"created_at"`
		}
		out := []row{}
		for q.Next() {
			var x row
			if err := q.Scan(&x.ID, &x.Body, &x.Release, &x.CreatedAt); err != nil {
				dbError(w, err)
				return
			}
			out = append(out, x)
		}
		if err := q.Err(); err != nil {
			dbError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	})

	mux.HandleFunc("/migrations", func(w http.ResponseWriter, r *http.Request) {
		db, err := getDB()
		if err != nil {
			dbError(w, err)
			return
		}
		q, err := db.Query(`SELECT id, release, applied_at FROM migrations ORDER BY id`)
		if err != nil {
			dbError(w, err)
			return
		}
		defer q.Close()
		type mig struct {
			ID        int64  `json:"id"`
			Release   string `json:"release"`
			AppliedAt string `json:"applied_at"`
		}
		out := []mig{}
		for q.Next() {
			var m mig
			if err := q.Scan(&m.ID, &m.Release, &m.AppliedAt); err != nil {
				dbError(w, err)
				return
			}
			out = append(out, m)
		}
		writeJSON(w, http.StatusOK, out)
	})

	mux.HandleFunc("/env", func(w http.ResponseWriter, r *http.Request) {
		// Only non-secret, explicitly listed keys: lets tests check config reached the container.
		keys := strings.Split(r.URL.Query().Get("keys"), ",")
		out := map[string]string{}
		for _, k := range keys {
			if k == "" {
				continue
			}
			if v, ok := os.LookupEnv(k); ok {
				out[k] = v
			}
		}
		writeJSON(w, http.StatusOK, out)
	})

	mux.HandleFunc("/page", pageHandler)
	mux.Handle("/assets/", assetsHandler())
	mux.HandleFunc("/ws", wsHandler)
	mux.HandleFunc("/sse", sseHandler)

	return withRelease(mux)
}

func serve() int {
	port := envOr("PORT", "80")
	mode := envOr("SIGTERM_MODE", "graceful")
	logf("booting: pid=%d port=%s sigterm_mode=%s db=%s", os.Getpid(), port, mode, dbPath())

	if os.Getenv("CRASH_AT_BOOT") == "1" {
		logf("CRASH_AT_BOOT=1: exiting with status 1")
		return 1
	}

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)

	if d := envInt("BOOT_DELAY_MS", 0); d > 0 {
		logf("BOOT_DELAY_MS=%d: delaying listen", d)
		select {
		case <-time.After(time.Duration(d) * time.Millisecond):
		case s := <-sigs:
			logf("received %s while booting: exiting", s)
			return 0
		}
	}

	if os.Getenv("NEVER_LISTEN") == "1" {
		logf("NEVER_LISTEN=1: running without listening")
		s := <-sigs
		logf("received %s: exiting", s)
		return 0
	}

	ln, err := net.Listen("tcp", ":"+port)
	if err != nil {
		logf("listen :%s failed: %v", port, err)
		return 1
	}
	srv := &http.Server{Handler: routes(), ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	logf("listening on :%s", port)

	select {
	case err := <-serveErr:
		logf("server failed: %v", err)
		return 1
	case s := <-sigs:
		switch mode {
		case "ignore-keep-accepting":
			linger := envInt("SIGTERM_LINGER_MS", 10000)
			logf("received %s: SIGTERM_MODE=ignore-keep-accepting, serving for %dms more", s, linger)
			timer := time.NewTimer(time.Duration(linger) * time.Millisecond)
		wait:
			for {
				select {
				case <-timer.C:
					break wait
				case s2 := <-sigs:
					logf("received %s again: still ignoring", s2)
				}
			}
			logf("linger over: exiting (in flight=%d)", inflight.Load())
			endLongLived()
			_ = srv.Close()
			return 0
		default:
			logf("received %s: graceful shutdown (in flight=%d)", s, inflight.Load())
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			go func() {
				if s2, ok := <-sigs; ok {
					logf("received %s during shutdown: exiting now", s2)
					os.Exit(1)
				}
			}()
			endLongLived()
			if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
				logf("shutdown: %v", err)
				return 1
			}
			logf("shutdown complete")
			if dbConn != nil {
				dbConn.Close()
			}
			return 0
		}
	}
}
