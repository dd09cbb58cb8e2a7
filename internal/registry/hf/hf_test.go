package hf_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/deps"
	"github.com/mlguard/mlguard/internal/registry"
	"github.com/mlguard/mlguard/internal/registry/hf"
	"github.com/mlguard/mlguard/internal/registry/httpx"
	"github.com/mlguard/mlguard/internal/registry/internal/fake"
)

func ts(s string) registry.Known[time.Time] {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return registry.Some(t)
}

func TestFacts(t *testing.T) {
	t.Parallel()
	srv := fake.New(t, map[string]fake.Route{
		"/api/models/google-bert/bert-base-uncased?securityStatus=true": {File: "testdata/model.json"},
		"/api/models/acme/llm-7b?securityStatus=true":                   {File: "testdata/gated.json"},
		"/api/models/acme/bare?securityStatus=true":                     {Body: `{"id":"acme/bare"}`},
		"/api/models/acme/bad?securityStatus=true":                      {Body: `{"id":`},
	})
	c, err := hf.New(srv.URL, srv.Client(), nil, httpx.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		id      string
		want    *registry.Facts
		wantErr error
		anyErr  bool
	}{
		{name: "public model", id: "google-bert/bert-base-uncased", want: &registry.Facts{
			Author:        registry.Some("google-bert"),
			FirstRelease:  ts("2022-03-02T23:29:04Z"),
			LatestRelease: ts("2024-02-19T11:06:12Z"),
			Downloads:     registry.Some[int64](51234567),
			Likes:         registry.Some[int64](2103),
			Gated:         registry.Some(false),
			License:       registry.Some("apache-2.0"),
			SecurityScan:  registry.Some(registry.Scan{Done: true}),
		}},
		{name: "gated, flagged by the hub", id: "acme/llm-7b", want: &registry.Facts{
			Author:        registry.Some("acme"),
			FirstRelease:  ts("2025-04-30T00:00:00Z"),
			LatestRelease: ts("2025-05-01T00:00:00Z"),
			Downloads:     registry.Some[int64](12),
			Likes:         registry.Some[int64](0),
			Gated:         registry.Some(true),
			License:       registry.Some("llama3 OR other"),
			SecurityScan:  registry.Some(registry.Scan{Done: true, FilesWithIssues: []registry.ScannedFile{{Path: "pytorch_model.bin", Level: "unsafe"}}}),
		}},
		{name: "fields absent stay unknown", id: "acme/bare", want: &registry.Facts{Author: registry.Some("acme")}},
		{name: "unknown model", id: "acme/nope", wantErr: httpx.ErrNotFound},
		{name: "malformed", id: "acme/bad", anyErr: true},
		{name: "path traversal refused", id: "../api/x", anyErr: true},
		{name: "query refused", id: "acme/x?y=1", anyErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := c.Facts(t.Context(), deps.Package{Ecosystem: deps.HuggingFace, Name: tt.id})
			if tt.wantErr != nil || tt.anyErr {
				if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) || got != nil {
					t.Fatalf("got %v, %v; want error %v", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("facts (-want +got):\n%s", diff)
			}
		})
	}
}
