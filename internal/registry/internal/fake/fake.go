// Package fake serves recorded registry answers from testdata files for
// the clients' tests.
package fake

import (
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
)

// Route is one canned answer: a testdata file, or an inline body, with a status.
type Route struct {
	File string // read at request time
	Body string
	Code int // 200 when zero
}

// Server is an httptest server answering by exact request URI (path and
// query as sent); anything else is 404. It counts requests per URI.
type Server struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

// New starts a server for routes and stops it when the test ends.
func New(t testing.TB, routes map[string]Route) *Server {
	t.Helper()
	s := &Server{hits: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.RequestURI]++
		s.mu.Unlock()
		rt, ok := routes[r.RequestURI]
		if !ok {
			http.NotFound(w, r)
			return
		}
		body := []byte(rt.Body)
		if rt.File != "" {
			b, err := os.ReadFile(rt.File)
			if err != nil {
				t.Errorf("fixture: %v", err)
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			body = b
		}
		w.Header().Set("Content-Type", "application/json")
		if rt.Code != 0 {
			w.WriteHeader(rt.Code)
		}
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

// Hits is how many requests reached uri.
func (s *Server) Hits(uri string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[uri]
}

// Total is how many requests the server answered.
func (s *Server) Total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, h := range s.hits {
		n += h
	}
	return n
}
