// Package cache is the on-disk cache of registry answers: plain files under
// one folder (so actions/cache or a GitLab cache: entry can keep it between
// runs), one file per (registry, key), written atomically, expiring after a
// TTL. A nil *Cache is a disabled cache: Get misses and Put does nothing.
package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// MaxEntry bounds an entry read back from disk; larger files are ignored.
const MaxEntry = 64 << 20

// magic starts every entry: "mlguard-cache/1 <unix seconds> <sha256 of data>\n".
const magic = "mlguard-cache/1"

var registryName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// Cache is one registry's entries under dir/<registry>/.
type Cache struct {
	dir string
	ttl time.Duration
	now func() time.Time
}

// Open returns the cache of registry (e.g. "pypi") under dir, creating the
// folder. An empty dir returns a nil (disabled) cache.
func Open(dir, registry string, ttl time.Duration) (*Cache, error) {
	if dir == "" {
		return nil, nil
	}
	if !registryName.MatchString(registry) {
		return nil, fmt.Errorf("opening cache: bad registry name %q", registry)
	}
	d := filepath.Join(dir, registry)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return nil, fmt.Errorf("opening cache: %w", err)
	}
	return &Cache{dir: d, ttl: ttl, now: time.Now}, nil
}

// SetClock replaces time.Now (tests of expiry).
func (c *Cache) SetClock(now func() time.Time) {
	if c != nil {
		c.now = now
	}
}

// path is dir/ab/abcdef… (sha256 of the key): safe whatever the key holds.
func (c *Cache) path(key string) string {
	sum := sha256.Sum256([]byte(key))
	h := hex.EncodeToString(sum[:])
	return filepath.Join(c.dir, h[:2], h)
}

// Get returns the entry for key if present, intact and younger than the TTL.
// Missing, expired, truncated or corrupted entries are misses.
func (c *Cache) Get(key string) ([]byte, bool) {
	if c == nil {
		return nil, false
	}
	f, err := os.Open(c.path(key))
	if err != nil {
		return nil, false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxEntry+1))
	if err != nil || len(b) > MaxEntry {
		return nil, false
	}
	header, data, ok := bytes.Cut(b, []byte("\n"))
	if !ok {
		return nil, false
	}
	var stored int64
	var sum string
	if n, err := fmt.Sscanf(string(header), magic+" %d %64s", &stored, &sum); err != nil || n != 2 {
		return nil, false
	}
	got := sha256.Sum256(data)
	if hex.EncodeToString(got[:]) != sum {
		return nil, false
	}
	age := c.now().Sub(time.Unix(stored, 0))
	if c.ttl > 0 && (age > c.ttl || age < -time.Hour) {
		return nil, false
	}
	return data, true
}

// Put stores data under key, replacing any entry atomically (temp file and
// rename in the same folder), so a concurrent reader or a killed job never
// sees half an entry.
func (c *Cache) Put(key string, data []byte) error {
	if c == nil {
		return nil
	}
	p := c.path(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("writing cache entry: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return fmt.Errorf("writing cache entry: %w", err)
	}
	sum := sha256.Sum256(data)
	header := magic + " " + strconv.FormatInt(c.now().Unix(), 10) + " " + hex.EncodeToString(sum[:]) + "\n"
	_, werr := tmp.WriteString(header)
	if werr == nil {
		_, werr = tmp.Write(data)
	}
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp.Name(), 0o644)
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), p)
	}
	if werr != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("writing cache entry: %w", werr)
	}
	return nil
}
