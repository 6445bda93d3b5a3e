package secrets

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Values bigger than one keychain item.
//
// The macOS Keychain (through go-keyring's command line) holds about 3 KB per item and the
// Windows Credential Manager 2560 bytes, while an enterprise access token (Entra ID, Okta
// with groups) often runs to several KB. The Keychain keeps such a value in parts:
//
//	key         the manifest: which slot holds the parts, how many, the value's length and SHA-256
//	key#a/0..n  the parts, in slot "a" or "b"
//
// A new value goes into the slot the manifest does not name; then the manifest, one item, is
// rewritten to name it, which is the switch; then the old slot is emptied. A crash at any
// step leaves the old value or the new one readable, whole. Parts are written upwards and
// deleted downwards, so whatever a crash leaves in a slot is parts 0..m: the next write into
// that slot, or the next Delete, finds it by reading upwards until a part is missing, and
// removes it.
//
// A value that fits stays one item, read in one call: the usual token costs nothing more to
// read. So that such a value never passes for a manifest, one that begins like a manifest is
// kept in parts too. A write reads the key first (one more call) to learn which slot is in
// use and what to tidy up.
//
// Two processes writing the same key at once would write into the same slot; the SHA-256 in
// the manifest makes such a mix read as not found, never as a wrong value. mcp-broker writes
// tokens and registrations under the server's lock, so this does not happen in practice.

// manifestMark begins every manifest.
const manifestMark = "mcp-broker parts v1:"

// maxParts bounds a value to this many items (about 80 KB on Windows).
const maxParts = 32

// manifest says where the parts of a value are. It holds no secret: the SHA-256 of a secret
// is kept in the keychain, next to the secret.
type manifest struct {
	Slot   string `json:"slot"`
	Parts  int    `json:"parts"`
	Len    int    `json:"len"`
	SHA256 string `json:"sha256"`
}

// partSlots are the two slots a value's parts alternate between.
var partSlots = [2]string{"a", "b"}

func otherSlot(slot string) string {
	if slot == partSlots[0] {
		return partSlots[1]
	}
	return partSlots[0]
}

// partKey names part i of key's value in slot. '#' appears in no key mcp-broker makes (an
// issuer in a registration key is path-escaped).
func partKey(key, slot string, i int) string {
	return key + "#" + slot + "/" + strconv.Itoa(i)
}

func isManifest(v string) bool { return strings.HasPrefix(v, manifestMark) }

func parseManifest(v string) (*manifest, bool) {
	var m manifest
	err := json.Unmarshal([]byte(strings.TrimPrefix(v, manifestMark)), &m)
	if err != nil || (m.Slot != partSlots[0] && m.Slot != partSlots[1]) || m.Parts < 1 || m.Parts > maxParts || m.Len < 0 {
		return nil, false
	}
	return &m, true
}

func digest(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])
}

// getParts reads the value whose manifest key holds. A value that cannot be put together
// whole (a part missing, a mix of two writes, a damaged manifest) reads as not found, so
// that callers treat it as absent and a new sign-in replaces it.
func (k *Keychain) getParts(ctx context.Context, key, raw string) (string, error) {
	m, ok := parseManifest(raw)
	if !ok {
		return "", fmt.Errorf("reading %q from the keychain: %w: its manifest is damaged", key, ErrNotFound)
	}
	var b strings.Builder
	b.Grow(m.Len)
	for i := range m.Parts {
		p, err := k.getItem(ctx, partKey(key, m.Slot, i))
		if errors.Is(err, ErrNotFound) {
			return "", fmt.Errorf("reading %q from the keychain: %w: part %d of %d is missing (a write or delete was cut short)", key, ErrNotFound, i+1, m.Parts)
		}
		if err != nil {
			return "", err
		}
		b.WriteString(p)
	}
	v := b.String()
	if len(v) != m.Len || digest(v) != m.SHA256 {
		return "", fmt.Errorf("reading %q from the keychain: %w: its parts do not add up (written by two processes at once?)", key, ErrNotFound)
	}
	return v, nil
}

// split cuts value into parts that each fit the item that will hold them, at UTF-8
// boundaries where the value is UTF-8. Both slots' part names are as long, so the cut does
// not depend on the slot.
func (k *Keychain) split(key, value string) ([]string, error) {
	var parts []string
	for rest := value; rest != "" || parts == nil; {
		if len(parts) == maxParts {
			return nil, fmt.Errorf("%w: %d bytes, more than %d items of the keychain hold", ErrTooBig, len(value), maxParts)
		}
		n := len(rest)
		if limit := itemLimit(k.goos, partKey(key, partSlots[0], len(parts))); limit >= 0 && n > limit {
			if limit < utf8.UTFMax {
				return nil, fmt.Errorf("%w: the key %q leaves no room for the value", ErrTooBig, key)
			}
			n = limit
			for n > limit-utf8.UTFMax && !utf8.RuneStart(rest[n]) {
				n--
			}
			if !utf8.RuneStart(rest[n]) {
				n = limit // not UTF-8: any cut will do
			}
		}
		parts = append(parts, rest[:n])
		rest = rest[n:]
	}
	return parts, nil
}

// current reads what key holds now: the manifest of a value in parts, or nil for a value in
// one item, or none. damaged reports a manifest that cannot be read, whose parts may be in
// either slot.
func (k *Keychain) current(ctx context.Context, key string) (m *manifest, damaged bool, err error) {
	v, err := k.getItem(ctx, key)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	case !isManifest(v):
		return nil, false, nil
	}
	m, ok := parseManifest(v)
	return m, !ok, nil
}

// setValue stores value under key: in one item when it fits, else in parts (see above).
func (k *Keychain) setValue(ctx context.Context, key, value string) error {
	limit := itemLimit(k.goos, key)
	var parts []string
	if (limit >= 0 && len(value) > limit) || isManifest(value) {
		var err error
		// Before any call: a value too big even in parts costs no round trip.
		if parts, err = k.split(key, value); err != nil {
			return fmt.Errorf("storing %q in the keychain: %w", key, err)
		}
	}
	old, damaged, err := k.current(ctx, key)
	if err != nil {
		return err
	}
	if parts == nil {
		if err := k.setItem(ctx, key, value); err != nil {
			return err
		}
		if old != nil || damaged {
			// The value is stored; the old parts are tidied up on a best-effort basis, and
			// what a failure leaves behind the next Delete removes.
			_ = k.emptySlots(ctx, key, old)
		}
		return nil
	}

	slot := partSlots[0]
	if old != nil && old.Slot == slot {
		slot = otherSlot(slot)
	}
	for i, p := range parts {
		if err := k.setItem(ctx, partKey(key, slot, i), p); err != nil {
			return err
		}
	}
	// Parts above ours, left by an earlier write cut short, must go before the manifest
	// names the slot: the next write into the other slot would not look for them.
	if err := k.trimSlot(ctx, key, slot, len(parts), len(parts)); err != nil {
		return err
	}
	data, err := json.Marshal(manifest{Slot: slot, Parts: len(parts), Len: len(value), SHA256: digest(value)})
	if err != nil {
		return fmt.Errorf("storing %q in the keychain: encoding its manifest: %w", key, err)
	}
	if err := k.setItem(ctx, key, manifestMark+string(data)); err != nil {
		return err
	}
	// The switch is made. Emptying the old slot is tidying up: what a failure leaves there,
	// the next write into that slot or the next Delete removes.
	known := 0
	if old != nil && old.Slot != slot {
		known = old.Parts
	}
	_ = k.trimSlot(ctx, key, otherSlot(slot), 0, known)
	return nil
}

// deleteValue deletes key's value: the parts first, the manifest last, so that a Delete cut
// short leaves a manifest whose parts are missing, which reads as not found and which the
// next Delete finishes. Where values may be in parts (a platform with a cap, or a manifest
// found), both slots are checked for leftovers.
func (k *Keychain) deleteValue(ctx context.Context, key string) error {
	old, damaged, err := k.current(ctx, key)
	if err != nil {
		return err
	}
	if old != nil || damaged || itemLimit(k.goos, key) >= 0 {
		if err := k.emptySlots(ctx, key, old); err != nil {
			return err
		}
	}
	return k.deleteItem(ctx, key)
}

// emptySlots deletes every part of key in both slots; m, when not nil, says how many parts
// its slot holds.
func (k *Keychain) emptySlots(ctx context.Context, key string, m *manifest) error {
	for _, slot := range partSlots {
		known := 0
		if m != nil && m.Slot == slot {
			known = m.Parts
		}
		if err := k.trimSlot(ctx, key, slot, 0, known); err != nil {
			return err
		}
	}
	return nil
}

// trimSlot deletes the parts of key's slot from keep upwards, top part first. Parts below
// known are taken to exist; from known up, parts are read until one is missing.
func (k *Keychain) trimSlot(ctx context.Context, key, slot string, keep, known int) error {
	end := max(keep, known)
	for ; ; end++ {
		if end >= 4*maxParts {
			return fmt.Errorf("deleting the parts of %q from the keychain: more than %d of them", key, 4*maxParts)
		}
		_, err := k.getItem(ctx, partKey(key, slot, end))
		if errors.Is(err, ErrNotFound) {
			break
		}
		if err != nil {
			return err
		}
	}
	for i := end - 1; i >= keep; i-- {
		if err := k.deleteItem(ctx, partKey(key, slot, i)); err != nil {
			return err
		}
	}
	return nil
}
