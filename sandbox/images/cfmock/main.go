// cfmock stands in for Cloudflare in the sandbox:
//
//	cfmock serve   the subset of the Cloudflare v4 API lego's cloudflare provider calls
//	               (GET /zones?name=, POST /zones/<id>/dns_records, DELETE /zones/<id>/dns_records/<rec>)
//	               on :80, and an authoritative DNS server for the zone on :53 (UDP and TCP) answering
//	               SOA, NS, TXT (the records created through the API) and A (a default address, or one
//	               set through the management endpoints /set-a and /clear-a).
//	cfmock echo    a tiny app that answers with the client address and request headers it saw (JSON),
//	               so tests can check which X-Forwarded-For reached an app behind Traefik.
//
// Environment (serve): ZONE (default berth.test), TOKEN (the API token lego must send; required),
// DEFAULT_A (address every name in the zone resolves to unless set), HTTP_ADDR (:80), DNS_ADDR (:53).
package main

import (
	"encoding/json"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

type record struct {
	ID      string `json:"id"`
	ZoneID  string `json:"zone_id"`
	Type    string `json:"type"`
	Name    string `json:"name"`
	Content string `json:"content"`
	TTL     int    `json:"ttl"`
}

type call struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Status int    `json:"status"`
}

type store struct {
	mu       sync.Mutex
	zone     string // without trailing dot
	zoneID   string
	defaultA string
	seq      int
	records  map[string]record   // by id
	a        map[string][]string // fqdn (no dot) → addresses
	calls    []call
	created  int
	history  []string // name of every TXT record ever created (tests count orders per name)
}

func newStore() *store {
	zone := strings.TrimSuffix(strings.ToLower(env("ZONE", "berth.test")), ".")
	return &store{zone: zone, zoneID: "zone-" + strings.ReplaceAll(zone, ".", "-"), defaultA: env("DEFAULT_A", ""),
		records: map[string]record{}, a: map[string][]string{}, calls: []call{}, history: []string{}}
}

func (s *store) inZone(name string) bool {
	n := strings.TrimSuffix(strings.ToLower(name), ".")
	return n == s.zone || strings.HasSuffix(n, "."+s.zone)
}

type envelope struct {
	Success  bool          `json:"success"`
	Errors   []interface{} `json:"errors"`
	Messages []interface{} `json:"messages"`
	Result   interface{}   `json:"result"`
}

func writeJSON(w http.ResponseWriter, status int, v interface{}) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, status int, code int, msg string) {
	writeJSON(w, status, envelope{Success: false, Errors: []interface{}{map[string]interface{}{"code": code, "message": msg}}, Messages: []interface{}{}, Result: nil})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(s int) { r.status = s; r.ResponseWriter.WriteHeader(s) }

func (s *store) api(token string) http.Handler {
	mux := http.NewServeMux()
	const base = "/client/v4"
	mux.HandleFunc(base+"/zones", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			apiError(w, 405, 10000, "method not allowed")
			return
		}
		name := strings.TrimSuffix(strings.ToLower(r.URL.Query().Get("name")), ".")
		result := []interface{}{}
		if name == s.zone {
			result = append(result, map[string]interface{}{"id": s.zoneID, "name": s.zone, "status": "active"})
		}
		writeJSON(w, 200, envelope{Success: true, Errors: []interface{}{}, Messages: []interface{}{}, Result: result})
	})
	mux.HandleFunc(base+"/zones/", func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, base+"/zones/"), "/")
		if len(parts) < 2 || parts[0] != s.zoneID || parts[1] != "dns_records" {
			apiError(w, 404, 7003, "could not route to "+r.URL.Path)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		switch {
		case r.Method == http.MethodPost && len(parts) == 2:
			var rec record
			if err := json.NewDecoder(r.Body).Decode(&rec); err != nil || rec.Type != "TXT" || !s.inZone(rec.Name) {
				apiError(w, 400, 9005, "expected a TXT record in the zone")
				return
			}
			s.seq++
			s.created++
			rec.ID = fmt.Sprintf("rec%d", s.seq)
			rec.ZoneID = s.zoneID
			rec.Name = strings.TrimSuffix(strings.ToLower(rec.Name), ".")
			// Cloudflare takes TXT content quoted ("\"value\"", as lego sends it) or bare, and serves the value.
			if u, err := strconv.Unquote(rec.Content); err == nil && strings.HasPrefix(rec.Content, `"`) {
				rec.Content = u
			}
			s.records[rec.ID] = rec
			s.history = append(s.history, rec.Name)
			log.Printf("api: created TXT %s %q (%s)", rec.Name, rec.Content, rec.ID)
			writeJSON(w, 200, envelope{Success: true, Errors: []interface{}{}, Messages: []interface{}{}, Result: rec})
		case r.Method == http.MethodDelete && len(parts) == 3:
			if _, ok := s.records[parts[2]]; !ok {
				apiError(w, 404, 81044, "record not found")
				return
			}
			delete(s.records, parts[2])
			log.Printf("api: deleted %s", parts[2])
			writeJSON(w, 200, envelope{Success: true, Errors: []interface{}{}, Messages: []interface{}{}, Result: map[string]string{"id": parts[2]}})
		default:
			apiError(w, 405, 10000, "method not allowed")
		}
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, base+"/") {
			rec := &statusRecorder{ResponseWriter: w, status: 200}
			if r.Header.Get("Authorization") != "Bearer "+token {
				apiError(rec, 403, 9109, "invalid access token")
			} else {
				mux.ServeHTTP(rec, r)
			}
			s.mu.Lock()
			s.calls = append(s.calls, call{Method: r.Method, Path: r.URL.Path, Status: rec.status})
			s.mu.Unlock()
			return
		}
		s.management(w, r)
	})
}

// management: test-side endpoints (not part of Cloudflare's API).
func (s *store) management(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Host      string   `json:"host"`
		Addresses []string `json:"addresses"`
	}
	switch r.URL.Path {
	case "/up":
		fmt.Fprintln(w, "ok")
	case "/state":
		s.mu.Lock()
		defer s.mu.Unlock()
		recs := []record{}
		for _, rec := range s.records {
			recs = append(recs, rec)
		}
		sort.Slice(recs, func(i, j int) bool { return recs[i].ID < recs[j].ID })
		writeJSON(w, 200, map[string]interface{}{"zone": s.zone, "records": recs, "created": s.created, "history": s.history, "calls": s.calls, "a": s.a})
	case "/set-a", "/clear-a":
		if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&body) != nil || body.Host == "" {
			http.Error(w, "POST {host, addresses}", 400)
			return
		}
		for _, a := range body.Addresses {
			if net.ParseIP(a) == nil {
				http.Error(w, "not an address: "+a, 400)
				return
			}
		}
		name := strings.TrimSuffix(strings.ToLower(body.Host), ".")
		s.mu.Lock()
		if r.URL.Path == "/set-a" {
			s.a[name] = body.Addresses
		} else {
			delete(s.a, name)
		}
		s.mu.Unlock()
		fmt.Fprintln(w, "ok")
	default:
		http.NotFound(w, r)
	}
}

func (s *store) soa() dns.RR {
	z := s.zone + "."
	return &dns.SOA{Hdr: dns.RR_Header{Name: z, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 60},
		Ns: "ns." + z, Mbox: "hostmaster." + z, Serial: 1, Refresh: 60, Retry: 60, Expire: 600, Minttl: 1}
}

func (s *store) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		_ = w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	name := strings.TrimSuffix(strings.ToLower(q.Name), ".")
	if !s.inZone(name) {
		m.Authoritative = false
		m.Rcode = dns.RcodeRefused
		_ = w.WriteMsg(m)
		return
	}
	hdr := func(t uint16) dns.RR_Header {
		return dns.RR_Header{Name: q.Name, Rrtype: t, Class: dns.ClassINET, Ttl: 1}
	}
	s.mu.Lock()
	switch q.Qtype {
	case dns.TypeSOA:
		if name == s.zone {
			m.Answer = append(m.Answer, s.soa())
		}
	case dns.TypeNS:
		if name == s.zone {
			m.Answer = append(m.Answer, &dns.NS{Hdr: hdr(dns.TypeNS), Ns: "ns." + s.zone + "."})
		}
	case dns.TypeTXT:
		for _, rec := range s.records {
			if rec.Name == name {
				m.Answer = append(m.Answer, &dns.TXT{Hdr: hdr(dns.TypeTXT), Txt: []string{rec.Content}})
			}
		}
	case dns.TypeA:
		addrs, ok := s.a[name]
		if !ok && s.defaultA != "" {
			addrs = []string{s.defaultA}
		}
		for _, a := range addrs {
			if ip := net.ParseIP(a).To4(); ip != nil {
				m.Answer = append(m.Answer, &dns.A{Hdr: hdr(dns.TypeA), A: ip})
			}
		}
	}
	s.mu.Unlock()
	if len(m.Answer) == 0 {
		m.Ns = append(m.Ns, s.soa()) // NODATA: the zone's SOA in the authority section
	}
	_ = w.WriteMsg(m)
}

func serve() {
	token := os.Getenv("TOKEN")
	if token == "" {
		log.Fatal("TOKEN is required (the API token lego must present)")
	}
	s := newStore()
	dnsAddr := env("DNS_ADDR", ":53")
	for _, netw := range []string{"udp", "tcp"} {
		srv := &dns.Server{Addr: dnsAddr, Net: netw, Handler: s}
		go func(n string) { log.Fatal(n, ": ", srv.ListenAndServe()) }(netw)
	}
	addr := env("HTTP_ADDR", ":80")
	log.Printf("cfmock: zone %s, API on %s, DNS on %s (udp+tcp)", s.zone, addr, dnsAddr)
	log.Fatal(http.ListenAndServe(addr, s.api(token)))
}

func echo() {
	port := env("PORT", "80")
	mux := http.NewServeMux()
	mux.HandleFunc("/up", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]interface{}{"remote_addr": r.RemoteAddr, "host": r.Host, "headers": r.Header})
	})
	log.Printf("cfmock echo on :%s", port)
	log.Fatal(http.ListenAndServe(":"+port, mux))
}

func main() {
	log.SetFlags(0)
	cmd := "serve"
	if len(os.Args) > 1 {
		cmd = os.Args[1]
	}
	switch cmd {
	case "serve":
		serve()
	case "echo":
		echo()
	default:
		fmt.Fprintf(os.Stderr, "usage: cfmock serve|echo\n")
		os.Exit(2)
	}
}
