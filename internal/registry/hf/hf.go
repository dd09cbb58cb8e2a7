// Package hf reads model facts from the Hugging Face Hub API
// (GET {base}/api/models/{id}?securityStatus=true).
package hf

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/mlguard/mlguard/internal/deps"
	"github.com/mlguard/mlguard/internal/registry"
	"github.com/mlguard/mlguard/internal/registry/cache"
	"github.com/mlguard/mlguard/internal/registry/httpx"
)

// Client asks one Hub.
type Client struct {
	http  *httpx.Client
	cache *cache.Cache
}

// New returns a client of base (registry.DefaultHFURL or a mirror); c may be nil.
func New(base string, hc *http.Client, c *cache.Cache, opts ...httpx.Option) (*Client, error) {
	h, err := httpx.New(base, hc, opts...)
	if err != nil {
		return nil, fmt.Errorf("hf: %w", err)
	}
	return &Client{http: h, cache: c}, nil
}

// repoID is "name" or "owner/name" as the Hub allows them.
var repoID = regexp.MustCompile(`^(?:[A-Za-z0-9][A-Za-z0-9._-]{0,95}/)?[A-Za-z0-9][A-Za-z0-9._-]{0,95}$`)

// ValidID reports whether id is a model id the Hub could hold.
func ValidID(id string) bool { return repoID.MatchString(id) && !strings.Contains(id, "..") }

type model struct {
	ID           string          `json:"id"`
	Author       *string         `json:"author"`
	CreatedAt    *time.Time      `json:"createdAt"`
	LastModified *time.Time      `json:"lastModified"`
	Downloads    *int64          `json:"downloads"`
	Likes        *int64          `json:"likes"`
	Gated        json.RawMessage `json:"gated"` // false, "auto" or "manual"
	CardData     *struct {
		License json.RawMessage `json:"license"` // "mit", or a list
	} `json:"cardData"`
	SecurityRepoStatus *struct {
		ScansDone       bool `json:"scansDone"`
		FilesWithIssues []struct {
			Path  string `json:"path"`
			Level string `json:"level"`
		} `json:"filesWithIssues"`
	} `json:"securityRepoStatus"`
}

// Facts returns the model's author, creation and last modification times,
// downloads, likes, gating, card licence and the Hub's scan. An unknown
// (or private) model is httpx.ErrNotFound.
func (c *Client) Facts(ctx context.Context, p deps.Package) (*registry.Facts, error) {
	if p.Ecosystem != deps.HuggingFace {
		return nil, fmt.Errorf("hf: not a Hugging Face model: %s", p.PURL())
	}
	if !ValidID(p.Name) {
		return nil, fmt.Errorf("hf: bad model id %q", p.Name)
	}
	key := deps.Package{Ecosystem: p.Ecosystem, Name: p.Name, Version: p.Version}.PURL()
	return registry.Cached(ctx, c.cache, key, func(ctx context.Context) (*registry.Facts, error) {
		var m model
		if err := c.http.GetJSON(ctx, "/api/models/"+p.Name+"?securityStatus=true", &m); err != nil {
			return nil, fmt.Errorf("hf: fetching %s: %w", p.Name, err)
		}
		return facts(&m), nil
	})
}

func facts(m *model) *registry.Facts {
	f := &registry.Facts{}
	if m.Author != nil && strings.TrimSpace(*m.Author) != "" {
		f.Author = registry.Some(strings.TrimSpace(*m.Author))
	} else if owner, _, ok := strings.Cut(m.ID, "/"); ok && strings.TrimSpace(owner) != "" {
		f.Author = registry.Some(strings.TrimSpace(owner))
	}
	if m.CreatedAt != nil {
		f.FirstRelease = registry.SomeTime(*m.CreatedAt)
	}
	if m.LastModified != nil {
		f.LatestRelease = registry.SomeTime(*m.LastModified)
	}
	if fr, lr := f.FirstRelease, f.LatestRelease; fr.OK && lr.OK && fr.V.After(lr.V) {
		f.LatestRelease = fr // modified before it was created: believe the creation
	}
	// Negative counts are not counts.
	if m.Downloads != nil && *m.Downloads >= 0 {
		f.Downloads = registry.Some(*m.Downloads)
	}
	if m.Likes != nil && *m.Likes >= 0 {
		f.Likes = registry.Some(*m.Likes)
	}
	var gb bool
	var gs string
	if json.Unmarshal(m.Gated, &gb) == nil {
		f.Gated = registry.Some(gb)
	} else if json.Unmarshal(m.Gated, &gs) == nil {
		f.Gated = registry.Some(gs != "" && gs != "false")
	}
	if m.CardData != nil {
		var l string
		var ls []string
		if json.Unmarshal(m.CardData.License, &l) == nil {
			ls = []string{l}
		} else if json.Unmarshal(m.CardData.License, &ls) != nil {
			ls = nil
		}
		var named []string
		for _, l := range ls {
			if l = strings.TrimSpace(l); l != "" {
				named = append(named, l)
			}
		}
		if len(named) > 0 {
			f.License = registry.Some(strings.Join(named, " OR "))
		}
	}
	if s := m.SecurityRepoStatus; s != nil {
		scan := registry.Scan{Done: s.ScansDone}
		for _, fi := range s.FilesWithIssues {
			scan.FilesWithIssues = append(scan.FilesWithIssues, registry.ScannedFile{Path: fi.Path, Level: fi.Level})
		}
		f.SecurityScan = registry.Some(scan)
	}
	return f
}
