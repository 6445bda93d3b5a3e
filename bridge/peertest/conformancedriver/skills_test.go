package main

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
)

const (
	skillURI = "skill://pdf/SKILL.md"
	formsURI = "skill://pdf/references/FORMS.md"
	skillMD  = "---\nname: pdf\ndescription: Fill PDF forms\n---\n\nBody.\n"
	formsMD  = "Forms.\n"
)

func entryFor(uri, text string) skillFile {
	sum := sha256.Sum256([]byte(text))
	return skillFile{URI: uri, Digest: "sha256:" + hex.EncodeToString(sum[:]), Size: len(text)}
}

// TestSkills: a host of the skills extension lists the skills and reads none of their files
// unless a skill is loaded; loading one reads SKILL.md, and the other files only when
// SKILL.md matches its entry in size, digest and frontmatter.
func TestSkills(t *testing.T) {
	tests := []struct {
		name     string
		scenario string
		served   string // the SKILL.md the server serves
		reads    []string
	}{
		{"listed, not loaded", "sep-2640-client-no-prefetch", skillMD, nil},
		{"loaded, verified", "sep-2640-client-verify-ok", skillMD, []string{skillURI, formsURI}},
		{"loaded, wrong digest", "sep-2640-client-verify-digest", strings.Replace(skillMD, "Body.", "Evil!", 1), []string{skillURI}},
		{"loaded, wrong size", "sep-2640-client-verify-size", skillMD + "more", []string{skillURI}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, p := startHost(t, scenario{name: tt.scenario, version: "2025-11-25"}, func(m message) (any, *wireError) {
				switch m.Method {
				case "initialize":
					return map[string]any{"capabilities": map[string]any{"extensions": map[string]any{skillsExtension: map[string]any{}}}}, nil
				case "skills/list":
					return map[string]any{"skills": []any{map[string]any{
						"uri": skillURI, "frontmatter": map[string]string{"name": "pdf", "description": "Fill PDF forms"},
						"resources": []skillFile{entryFor(formsURI, formsMD), entryFor(skillURI, skillMD)},
					}}}, nil
				case "resources/read":
					text := formsMD
					if strings.Contains(string(m.Params), skillURI) {
						text = tt.served
					}
					return map[string]any{"contents": []any{map[string]any{"uri": "u", "text": text}}}, nil
				}
				return oneTool(m)
			})
			if err := h.run(t.Context()); err != nil {
				t.Fatal(err)
			}
			var reads []string
			for _, m := range p.requests("resources/read") {
				for _, uri := range []string{skillURI, formsURI} {
					if strings.Contains(string(m.Params), uri) {
						reads = append(reads, uri)
					}
				}
			}
			if len(p.requests("skills/list")) != 1 || !slices.Equal(reads, tt.reads) {
				t.Errorf("skills/list %d times, read %v; want once, and %v", len(p.requests("skills/list")), reads, tt.reads)
			}
		})
	}
}

func TestVerifyFile(t *testing.T) {
	good := entryFor(skillURI, skillMD)
	tests := []struct {
		name, text, problem string
	}{
		{"matches", skillMD, ""},
		{"longer", skillMD + "x", "bytes, the entry says"},
		{"same size, other bytes", strings.Replace(skillMD, "Body", "Bodz", 1), "digest sha256:"},
	}
	for _, tt := range tests {
		if got := verifyFile(good, tt.text); (tt.problem == "") != (got == "") || !strings.Contains(got, tt.problem) {
			t.Errorf("%s: verifyFile = %q, want %q", tt.name, got, tt.problem)
		}
	}
}

func TestVerifyFrontmatter(t *testing.T) {
	want := map[string]string{"name": "pdf", "description": "Fill PDF forms"}
	tests := []struct {
		name, text, problem string
	}{
		{"matches", skillMD, ""},
		{"another description", strings.Replace(skillMD, "Fill PDF forms", "Exfiltrate credentials", 1), `frontmatter description is "Exfiltrate credentials"`},
		{"a field more", strings.Replace(skillMD, "name: pdf\n", "name: pdf\nallowed-tools: all\n", 1), "frontmatter allowed-tools is not in the entry"},
		{"a field less", strings.Replace(skillMD, "name: pdf\n", "", 1), `frontmatter name is ""`},
		{"none", "Body.\n", "no frontmatter"},
		{"not closed", "---\nname: pdf\n", "no frontmatter"},
	}
	for _, tt := range tests {
		if got := verifyFrontmatter(want, tt.text); (tt.problem == "") != (got == "") || !strings.Contains(got, tt.problem) {
			t.Errorf("%s: verifyFrontmatter = %q, want %q", tt.name, got, tt.problem)
		}
	}
}
