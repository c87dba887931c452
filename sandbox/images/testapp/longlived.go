// Zero-downtime stand-ins: fingerprinted assets that differ per release, a WebSocket echo and an
// SSE stream that end cleanly on SIGTERM (close frame 1001 / a final "bye" event), as Rails'
// Action Cable does on shutdown.
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// ---------------------------------------------------------------- assets

// assetDir is where the image keeps its compiled assets (a Berth asset_path mounts the merged
// assets of several releases here); /assets/<name> serves from it.
func assetDir() string { return envOr("ASSET_DIR", "/app/public/assets") }

type asset struct{ logical, name, body string }

// releaseAssets are this release's assets, named by the digest of their content (which names the
// release), so v1 and v2 built from the same source have different file names, as in Rails.
func releaseAssets() []asset {
	src := []struct{ logical, ext, body string }{
		{"application", "css", fmt.Sprintf("/* testapp %s */\nbody::after { content: \"release %s\"; }\n", release, release)},
		{"application", "js", fmt.Sprintf("// testapp %s\nwindow.TESTAPP_RELEASE = %q;\n", release, release)},
	}
	out := make([]asset, 0, len(src))
	for _, s := range src {
		sum := sha256.Sum256([]byte(s.body))
		out = append(out, asset{s.logical + "." + s.ext, fmt.Sprintf("%s-%s.%s", s.logical, hex.EncodeToString(sum[:8]), s.ext), s.body})
	}
	return out
}

// writeAssets is the image's "precompile" step (`testapp assets [dir]`, run in the Dockerfile).
func writeAssets(dir string) int {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, a := range releaseAssets() {
		if err := os.WriteFile(filepath.Join(dir, a.name), []byte(a.body), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println(a.name)
	}
	return 0
}

func pageHandler(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!doctype html>\n<html><head><title>testapp %s</title>\n", html.EscapeString(release))
	for _, a := range releaseAssets() {
		if filepath.Ext(a.name) == ".css" {
			fmt.Fprintf(w, "<link rel=\"stylesheet\" href=\"/assets/%s\">\n", a.name)
		} else {
			fmt.Fprintf(w, "<script src=\"/assets/%s\"></script>\n", a.name)
		}
	}
	fmt.Fprintf(w, "</head><body>release %s</body></html>\n", html.EscapeString(release))
}

// assetsHandler serves files from the asset directory (whatever a deploy merged into it).
func assetsHandler() http.Handler {
	fs := http.StripPrefix("/assets/", http.FileServer(http.Dir(assetDir())))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/assets/" {
			// No directory listings; /assets/index.json lists the files for tests instead.
			http.NotFound(w, r)
			return
		}
		if r.URL.Path == "/assets/index.json" {
			entries, _ := os.ReadDir(assetDir())
			names := []string{}
			for _, e := range entries {
				names = append(names, e.Name())
			}
			sort.Strings(names)
			writeJSON(w, http.StatusOK, names)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		fs.ServeHTTP(w, r)
	})
}

// ---------------------------------------------------------------- long-lived connections

// shutdown is closed on SIGTERM: SSE streams end with a final event, WebSockets get close 1001.
var (
	shutdown     = make(chan struct{})
	shutdownOnce sync.Once
	sockets      sync.WaitGroup
	socketsMu    sync.Mutex
	socketSet    = map[*wsConn]struct{}{}
)

type wsConn struct {
	c  *websocket.Conn
	mu sync.Mutex // one writer at a time: the echo loop and the shutdown close
}

func (c *wsConn) write(kind int, b []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_ = c.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.c.WriteMessage(kind, b)
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// wsHandler echoes every message as "<release>:<message>" until either side closes.
func wsHandler(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade already answered 400
	}
	conn := &wsConn{c: c}
	select {
	case <-shutdown:
		_ = conn.write(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "going away"))
		c.Close()
		return
	default:
	}
	socketsMu.Lock()
	socketSet[conn] = struct{}{}
	sockets.Add(1)
	socketsMu.Unlock()
	defer func() {
		socketsMu.Lock()
		delete(socketSet, conn)
		socketsMu.Unlock()
		c.Close()
		sockets.Done()
	}()
	for {
		kind, msg, err := c.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				logf("websocket closed by peer: %d", ce.Code)
			}
			return
		}
		if err := conn.write(kind, append([]byte(release+":"), msg...)); err != nil {
			return
		}
	}
}

// closeSockets sends close 1001 to every WebSocket and waits (bounded) for the peers to answer.
func closeSockets(wait time.Duration) {
	socketsMu.Lock()
	conns := make([]*wsConn, 0, len(socketSet))
	for c := range socketSet {
		conns = append(conns, c)
	}
	socketsMu.Unlock()
	logf("closing %d websockets with 1001", len(conns))
	for _, c := range conns {
		_ = c.write(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "going away"))
	}
	done := make(chan struct{})
	go func() { sockets.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(wait):
		for _, c := range conns {
			c.c.Close()
		}
	}
}

// sseHandler streams "tick" events every interval_ms (default 200) until the client leaves or the
// server shuts down (then a final "bye" event and a clean end of the response).
func sseHandler(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ms, _ := strconv.Atoi(r.URL.Query().Get("interval_ms"))
	if ms < 20 || ms > 10000 {
		ms = 200
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fl.Flush()
	t := time.NewTicker(time.Duration(ms) * time.Millisecond)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-r.Context().Done():
			return
		case <-shutdown:
			fmt.Fprintf(w, "event: bye\ndata: %s going away\n\n", release)
			fl.Flush()
			return
		case <-t.C:
			if _, err := fmt.Fprintf(w, "event: tick\ndata: %s %d\n\n", release, n); err != nil {
				return
			}
			fl.Flush()
		}
	}
}

// endLongLived runs once at SIGTERM, before the HTTP server's own graceful shutdown.
func endLongLived() {
	shutdownOnce.Do(func() {
		close(shutdown)
		closeSockets(5 * time.Second)
	})
}

// statusWriter passes hijacking (WebSockets) and flushing (SSE) through to the real writer.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("hijack unsupported")
	}
	if w.status == 0 {
		w.status = http.StatusSwitchingProtocols
	}
	return h.Hijack()
}

func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = 200
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
