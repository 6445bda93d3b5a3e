package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// skillsExtension is the server capability of the skills extension (SEP-2640).
const skillsExtension = "io.modelcontextprotocol/skills"

// skill is one entry of a skills/list result: its SKILL.md, the frontmatter the server
// vouches for, and every file with its size and digest.
type skill struct {
	URI         string            `json:"uri"`
	Frontmatter map[string]string `json:"frontmatter"`
	Resources   []skillFile       `json:"resources"`
}

type skillFile struct {
	URI    string `json:"uri"`
	Digest string `json:"digest"` // "sha256:<hex>"
	Size   int    `json:"size"`
}

// skills plays a host of the skills extension when the server offers it: it lists the
// skills, as a host does to show them, and reads no skill file until a skill is loaded
// (sep-2640-client-no-prefetch). The suite has no user to load a skill; its verify scenarios
// are the ones where one is loaded (loadsSkills).
func (h *host) skills(ctx context.Context) error {
	var caps struct {
		Extensions map[string]json.RawMessage `json:"extensions"`
	}
	_ = json.Unmarshal(h.serverCaps, &caps)
	if _, ok := caps.Extensions[skillsExtension]; !ok {
		return nil
	}
	res, err := h.request(ctx, "skills/list", nil)
	if err != nil {
		return err
	}
	var list struct {
		Skills []skill `json:"skills"`
	}
	if err := json.Unmarshal(res, &list); err != nil {
		return fmt.Errorf("skills/list: %w", err)
	}
	logf("skills/list: %d skill(s)", len(list.Skills))
	if !loadsSkills(h.sc.name) {
		return nil
	}
	for _, sk := range list.Skills {
		if err := h.loadSkill(ctx, sk); err != nil {
			return err
		}
	}
	return nil
}

// loadsSkills reports whether, in this scenario, the user loads the skills listed: in the
// sep-2640-client-verify-* scenarios, which serve a tampered SKILL.md for the host to refuse.
func loadsSkills(scenario string) bool {
	return strings.HasPrefix(scenario, "sep-2640-client-verify-")
}

// loadSkill loads a skill as the extension requires: SKILL.md first, verified against its
// entry (size, digest, and its frontmatter field by field); then, only when it verified, the
// skill's other files, each verified in turn. A file that fails verification is not used, and
// nothing after it is read. That is the host refusing the skill, not a failure of the run.
func (h *host) loadSkill(ctx context.Context, sk skill) error {
	i := slices.IndexFunc(sk.Resources, func(f skillFile) bool { return f.URI == sk.URI })
	if i < 0 {
		logf("skill %s: its files do not list SKILL.md: not loading it", sk.URI)
		return nil
	}
	files := append([]skillFile{sk.Resources[i]}, slices.Delete(slices.Clone(sk.Resources), i, i+1)...)
	for _, f := range files {
		text, err := h.readResource(ctx, f.URI)
		if err != nil {
			return err
		}
		problem := verifyFile(f, text)
		if problem == "" && f.URI == sk.URI {
			problem = verifyFrontmatter(sk.Frontmatter, text)
		}
		if problem != "" {
			logf("skill %s: %s fails verification (%s): not loading the skill", sk.URI, f.URI, problem)
			return nil
		}
	}
	logf("skill %s: loaded, %d file(s) verified", sk.URI, len(files))
	return nil
}

// readResource reads a text resource.
func (h *host) readResource(ctx context.Context, uri string) (string, error) {
	res, err := h.request(ctx, "resources/read", map[string]any{"uri": uri})
	if err != nil {
		return "", err
	}
	var r struct {
		Contents []struct {
			Text string `json:"text"`
		} `json:"contents"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		return "", fmt.Errorf("resources/read %s: %w", uri, err)
	}
	if len(r.Contents) != 1 {
		return "", fmt.Errorf("resources/read %s: %d contents, want 1", uri, len(r.Contents))
	}
	return r.Contents[0].Text, nil
}

// verifyFile checks a file's bytes against its entry: the size first (a mismatch is a
// verification failure whether or not the digest is computed), then the SHA-256 digest. It
// returns what is wrong, or "".
func verifyFile(f skillFile, text string) string {
	if len(text) != f.Size {
		return fmt.Sprintf("%d bytes, the entry says %d", len(text), f.Size)
	}
	sum := sha256.Sum256([]byte(text))
	if got := "sha256:" + hex.EncodeToString(sum[:]); got != f.Digest {
		return fmt.Sprintf("digest %s, the entry says %s", got, f.Digest)
	}
	return ""
}

// verifyFrontmatter compares SKILL.md's frontmatter with the entry's, field by field. It
// returns what differs, or "".
func verifyFrontmatter(want map[string]string, text string) string {
	got, ok := frontmatter(text)
	if !ok {
		return "no frontmatter"
	}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if got[k] != want[k] {
			return fmt.Sprintf("frontmatter %s is %q, the entry says %q", k, got[k], want[k])
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			return fmt.Sprintf("frontmatter %s is not in the entry", k)
		}
	}
	return ""
}

// frontmatter reads the `key: value` lines between a document's leading `---` lines: the
// flat YAML of a SKILL.md. ok is false without them.
func frontmatter(text string) (fields map[string]string, ok bool) {
	lines := strings.Split(text, "\n")
	if strings.TrimSpace(lines[0]) != "---" {
		return nil, false
	}
	fields = map[string]string{}
	for _, l := range lines[1:] {
		if strings.TrimSpace(l) == "---" {
			return fields, true
		}
		if k, v, found := strings.Cut(l, ":"); found {
			fields[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return nil, false
}
