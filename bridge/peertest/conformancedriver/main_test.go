package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync/atomic"
	"testing"
)

func TestElicitationDefaults(t *testing.T) {
	tests := []struct {
		name, params string
		want         map[string]any
	}{
		{"every kind of default", `{"message":"m","requestedSchema":{"type":"object","properties":{
			"name":{"type":"string","default":"John Doe"},"age":{"type":"integer","default":30},
			"score":{"type":"number","default":95.5},"status":{"type":"string","enum":["a","b"],"default":"b"},
			"verified":{"type":"boolean","default":true},"free":{"type":"string"}}}}`,
			map[string]any{"name": "John Doe", "age": 30.0, "score": 95.5, "status": "b", "verified": true}},
		{"no schema", `{"message":"m"}`, map[string]any{}},
		{"not JSON", `nope`, map[string]any{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Round-trip through JSON, as the answer travels.
			b, err := json.Marshal(elicitationDefaults(json.RawMessage(tt.params)))
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("elicitationDefaults = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestArguments(t *testing.T) {
	var tl tool
	if err := json.Unmarshal([]byte(`{"name":"t","inputSchema":{"type":"object","properties":{
		"a":{"type":"number"},"b":{"type":"integer"},"s":{"type":"string"},"d":{"type":"string","default":"x"},
		"e":{"enum":["first","second"]},"f":{"type":"boolean"},"l":{"type":"array"},"o":{"type":"object"}}}}`), &tl); err != nil {
		t.Fatal(err)
	}
	args := arguments(tl)
	b, _ := json.Marshal(args)
	var got map[string]any
	json.Unmarshal(b, &got)
	if a, b := got["a"], got["b"]; a == b || (a != 1.0 && a != 2.0) || (b != 1.0 && b != 2.0) {
		t.Errorf("numbers a=%v b=%v, want 1 and 2", a, b)
	}
	for k, want := range map[string]any{"s": "test", "d": "x", "e": "first", "f": true, "l": []any{}, "o": map[string]any{}} {
		if !reflect.DeepEqual(got[k], want) {
			t.Errorf("argument %s = %#v, want %#v", k, got[k], want)
		}
	}
}

// TestFollow plays the browser against an authorization endpoint that redirects at once to
// a loopback callback, as the conformance suite's do.
func TestFollow(t *testing.T) {
	var hits atomic.Int32
	callback := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/callback" && r.URL.Query().Get("code") == "c0de" {
			hits.Add(1)
		}
		w.Write([]byte("signed in"))
	}))
	defer callback.Close()
	as := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, callback.URL+"/callback?code=c0de&state=s", http.StatusFound)
	}))
	defer as.Close()

	if code := follow([]string{as.URL + "/authorize?client_id=x"}); code != 0 {
		t.Fatalf("follow = %d", code)
	}
	if hits.Load() != 1 {
		t.Errorf("the callback got %d visits with the code, want 1", hits.Load())
	}
	if code := follow([]string{"http://127.0.0.1:1/unreachable"}); code == 0 {
		t.Error("follow of an unreachable URL succeeded")
	}
}
