package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// indexPrefix begins the key of every index item; such keys are never indexed themselves.
const indexPrefix = "index/"

// IndexKey is the key of the index item of group.
func IndexKey(group string) string { return indexPrefix + group }

// Indexed is a Store that keeps, for each group of keys (for mcp-broker, a server's), an
// index item listing the keys stored in that group, so that a group's secrets can be found
// and deleted with no other record: go-keyring cannot list a keychain's items, and a file
// that mirrors them (state.json) can be lost or damaged.
//
// The group function says which group a key belongs to, or "" for a key that is not indexed:
// keys whose names the caller can rebuild (a server's tokens) need no entry and cost nothing
// extra. Setting or deleting an indexed key costs one more read (the index), and one more
// write when the index changes; reads cost nothing more.
//
// The index names a key before the key is written and drops it only after the key is
// deleted, so a crash leaves at worst an entry for a key that is gone, which is harmless.
// Index changes are serialised within the process; two processes changing one group's index
// at once could lose an entry, so write indexed keys under a lock of the group's (mcp-broker
// stores client registrations under the server's lock).
type Indexed struct {
	Store
	group func(key string) string
	mu    sync.Mutex // held while an index is read and rewritten
}

// NewIndexed wraps s, indexing the keys group assigns a group.
func NewIndexed(s Store, group func(key string) string) *Indexed {
	return &Indexed{Store: s, group: group}
}

// index is the value of an index item.
type index struct {
	Keys []string `json:"keys"`
}

func (x *Indexed) groupOf(key string) string {
	if strings.HasPrefix(key, indexPrefix) {
		return ""
	}
	return x.group(key)
}

// Set implements Store, adding key to its group's index first.
func (x *Indexed) Set(ctx context.Context, key, value string) error {
	if g := x.groupOf(key); g != "" {
		if err := x.update(ctx, g, func(keys []string) []string {
			if slices.Contains(keys, key) {
				return keys
			}
			return append(keys, key)
		}); err != nil {
			return err
		}
	}
	return x.Store.Set(ctx, key, value)
}

// Delete implements Store, dropping key from its group's index once it is deleted.
func (x *Indexed) Delete(ctx context.Context, key string) error {
	if err := x.Store.Delete(ctx, key); err != nil {
		return err
	}
	if g := x.groupOf(key); g != "" {
		return x.update(ctx, g, func(keys []string) []string {
			return slices.DeleteFunc(keys, func(k string) bool { return k == key })
		})
	}
	return nil
}

// Keys returns the keys the index of group names, sorted.
func (x *Indexed) Keys(ctx context.Context, group string) ([]string, error) {
	keys, err := x.read(ctx, group)
	slices.Sort(keys)
	return keys, err
}

// DeleteGroup deletes every key the index of group names and the keys in also, then the
// index itself. It stops at the first failure, leaving the index whole, so that it can be
// run again.
func (x *Indexed) DeleteGroup(ctx context.Context, group string, also ...string) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	keys, err := x.read(ctx, group)
	if err != nil {
		return err
	}
	for _, k := range append(keys, also...) {
		if err := x.Store.Delete(ctx, k); err != nil {
			return err
		}
	}
	return x.Store.Delete(ctx, IndexKey(group))
}

// update rewrites group's index with change applied, when that changes it; an index left
// empty is deleted.
func (x *Indexed) update(ctx context.Context, group string, change func([]string) []string) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	keys, err := x.read(ctx, group)
	if err != nil {
		return err
	}
	n := len(keys)
	keys = change(slices.Clone(keys))
	if len(keys) == n {
		return nil // keys are only ever added or removed: same length, same index
	}
	if len(keys) == 0 {
		return x.Store.Delete(ctx, IndexKey(group))
	}
	slices.Sort(keys)
	data, err := json.Marshal(index{Keys: keys})
	if err != nil {
		return fmt.Errorf("encoding the index of %s: %w", group, err)
	}
	return x.Store.Set(ctx, IndexKey(group), string(data))
}

// read returns the keys group's index names; none when there is no index. A damaged index
// counts as empty: it holds no secret, and the next change rewrites it.
func (x *Indexed) read(ctx context.Context, group string) ([]string, error) {
	raw, err := x.Store.Get(ctx, IndexKey(group))
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var idx index
	if json.Unmarshal([]byte(raw), &idx) != nil {
		return nil, nil
	}
	return slices.DeleteFunc(idx.Keys, func(k string) bool { return validateKey(k) != nil || strings.HasPrefix(k, indexPrefix) }), nil
}
