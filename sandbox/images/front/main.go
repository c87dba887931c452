// front stands in for Cloudflare in the sandbox: a reverse proxy in front of several Berth hosts.
//
//	front          proxy: round-robin over FRONT_ORIGINS, one origin per request, no retries
//	front echo     a stand-in origin that answers every request with what it received (JSON)
//
// Proxy (env):
//
//	FRONT_ORIGINS        comma-separated origin URLs, e.g. https://172.31.0.11,https://172.31.0.12
//	FRONT_ORIGIN_TLS     verify (default: system roots + FRONT_ORIGIN_CA; Cloudflare "Full (strict)")
//	                     or insecure (any certificate; Cloudflare "Full")
//	FRONT_ORIGIN_CA      PEM file of extra roots to verify origins with
//	FRONT_ORIGIN_CLIENT_CERT / FRONT_ORIGIN_CLIENT_KEY   PEM files presented to origins
//	                     (Cloudflare "Authenticated Origin Pulls")
//	FRONT_HTTP, FRONT_HTTPS  listen addresses (default :80, :443; "" turns one off). HTTPS uses a
//	                     self-signed certificate made at boot for FRONT_TLS_NAMES (comma-separated),
//	                     written to /run/front/cert.pem so a client can trust it.
//
// Each proxied request keeps its Host (and, to HTTPS origins, uses it as SNI), and gets, as
// Cloudflare sends them: X-Forwarded-For (the client's chain plus the client address),
// CF-Connecting-IP (the client address; a client-sent value is replaced), X-Forwarded-Proto and
// CF-Visitor (the scheme the client used). The response gets X-Front-Origin (which origin
// answered). An origin that fails answers 502: the front never hides a failed request by retrying.
// GET /_front/up is answered by the front itself.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func envOr(k, def string) string {
	if v, ok := os.LookupEnv(k); ok {
		return v
	}
	return def
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// selfSigned makes a certificate for names (DNS names or IPs) and writes its PEM to certFile.
func selfSigned(names []string, certFile string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "berth sandbox front"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(30 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.MkdirAll("/run/front", 0o755); err == nil {
		_ = os.WriteFile(certFile, certPEM, 0o644)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// transports holds one transport per (origin, server name): a pooled connection made with one
// SNI is never reused for another host name.
type transports struct {
	base *tls.Config
	m    sync.Map
}

func (t *transports) get(origin *url.URL, serverName string) http.RoundTripper {
	key := origin.Host + "|" + serverName
	if v, ok := t.m.Load(key); ok {
		return v.(http.RoundTripper)
	}
	cfg := t.base.Clone()
	if serverName != "" && net.ParseIP(serverName) == nil {
		cfg.ServerName = serverName
	}
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     cfg,
		ForceAttemptHTTP2:   false,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
	}
	v, _ := t.m.LoadOrStore(key, tr)
	return v.(http.RoundTripper)
}

func originTLS() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	switch mode := envOr("FRONT_ORIGIN_TLS", "verify"); mode {
	case "verify":
	case "insecure":
		cfg.InsecureSkipVerify = true
	default:
		return nil, fmt.Errorf("FRONT_ORIGIN_TLS=%q: expected verify or insecure", mode)
	}
	if f := os.Getenv("FRONT_ORIGIN_CA"); f != "" {
		pemBytes, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("FRONT_ORIGIN_CA: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pemBytes) {
			return nil, fmt.Errorf("FRONT_ORIGIN_CA=%s: no PEM certificate in it", f)
		}
		cfg.RootCAs = pool
	}
	cert, key := os.Getenv("FRONT_ORIGIN_CLIENT_CERT"), os.Getenv("FRONT_ORIGIN_CLIENT_KEY")
	if cert != "" || key != "" {
		c, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("FRONT_ORIGIN_CLIENT_CERT/KEY: %w", err)
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	return cfg, nil
}

type originKey struct{}

func proxyHandler(origins []*url.URL, trs *transports) http.Handler {
	var next atomic.Uint64
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			o := pr.In.Context().Value(originKey{}).(*url.URL)
			pr.SetURL(o)
			pr.Out.Host = pr.In.Host
			ip := clientIP(pr.In)
			xff := ip
			if prior := pr.In.Header.Values("X-Forwarded-For"); len(prior) > 0 {
				xff = strings.Join(prior, ", ") + ", " + ip
			}
			pr.Out.Header.Set("X-Forwarded-For", xff)
			pr.Out.Header.Set("CF-Connecting-IP", ip)
			pr.Out.Header.Set("X-Forwarded-Proto", scheme(pr.In))
			pr.Out.Header.Set("CF-Visitor", fmt.Sprintf(`{"scheme":%q}`, scheme(pr.In)))
		},
		Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			o := r.Context().Value(originKey{}).(*url.URL)
			host := r.Host
			if h, _, err := net.SplitHostPort(host); err == nil {
				host = h
			}
			return trs.get(o, host).RoundTrip(r)
		}),
		ModifyResponse: func(res *http.Response) error {
			res.Header.Set("X-Front-Origin", res.Request.Context().Value(originKey{}).(*url.URL).String())
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			o := r.Context().Value(originKey{}).(*url.URL)
			log.Printf("origin %s failed: %s %s%s: %v", o, r.Method, r.Host, r.URL.RequestURI(), err)
			w.Header().Set("X-Front-Origin", o.String())
			w.Header().Set("X-Front-Error", "origin failed")
			http.Error(w, fmt.Sprintf("front: origin %s failed: %v", o, err), http.StatusBadGateway)
		},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_front/up" {
			io.WriteString(w, "ok\n")
			return
		}
		o := origins[(next.Add(1)-1)%uint64(len(origins))]
		rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), originKey{}, o)))
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func echoHandler(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Echo-Name", name)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"name": name, "method": r.Method, "host": r.Host, "uri": r.URL.RequestURI(), "scheme": scheme(r),
			"sni": sni(r), "remote": clientIP(r), "headers": r.Header, "body": string(body),
		})
	})
}

func sni(r *http.Request) string {
	if r.TLS == nil {
		return ""
	}
	return r.TLS.ServerName
}

func serve(h http.Handler, names []string) error {
	servers := []*http.Server{}
	errs := make(chan error, 2)
	if addr := envOr("FRONT_HTTP", ":80"); addr != "" {
		s := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, s)
		go func() { errs <- s.ListenAndServe() }()
	}
	if addr := envOr("FRONT_HTTPS", ":443"); addr != "" {
		cert, err := selfSigned(names, "/run/front/cert.pem")
		if err != nil {
			return err
		}
		s := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second,
			TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}
		servers = append(servers, s)
		go func() { errs <- s.ListenAndServeTLS("", "") }()
	}
	if len(servers) == 0 {
		return errors.New("FRONT_HTTP and FRONT_HTTPS are both off")
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	select {
	case err := <-errs:
		return err
	case <-sig:
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, s := range servers {
			_ = s.Shutdown(ctx)
		}
		return nil
	}
}

func main() {
	log.SetFlags(log.LstdFlags | log.LUTC)
	mode := "proxy"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	names := splitList(envOr("FRONT_TLS_NAMES", "localhost,127.0.0.1"))
	var err error
	switch mode {
	case "proxy":
		var origins []*url.URL
		for _, s := range splitList(os.Getenv("FRONT_ORIGINS")) {
			u, perr := url.Parse(s)
			if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				log.Fatalf("FRONT_ORIGINS: %q is not an http(s)://host[:port] URL", s)
			}
			origins = append(origins, u)
		}
		if len(origins) == 0 {
			log.Fatal("FRONT_ORIGINS is empty: give one or more origin URLs, comma-separated")
		}
		base, terr := originTLS()
		if terr != nil {
			log.Fatal(terr)
		}
		log.Printf("front: round-robin over %d origins (%s), origin TLS %s", len(origins), os.Getenv("FRONT_ORIGINS"), envOr("FRONT_ORIGIN_TLS", "verify"))
		err = serve(proxyHandler(origins, &transports{base: base}), names)
	case "echo":
		name := envOr("ECHO_NAME", "echo")
		if h, herr := os.Hostname(); herr == nil && name == "echo" {
			name = h
		}
		err = serve(echoHandler(name), names)
	default:
		fmt.Fprintln(os.Stderr, "usage: front [proxy|echo]")
		os.Exit(2)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
