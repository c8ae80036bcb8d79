package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/grenache-go/grenache/grape/grapetest"
	"github.com/grenache-go/grenache/pkg/bep44"
)

func runStdin(t *testing.T, ctx context.Context, vars map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runIO(ctx, args, env(vars), strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestKeygenWritesGrenacheCLIFormat(t *testing.T) {
	home := t.TempDir()
	vars := map[string]string{"HOME": home}
	code, out, errs := runClient(t, vars, "keygen")
	if code != 0 {
		t.Fatalf("keygen: %d %q", code, errs)
	}
	path := filepath.Join(home, ".grenache-cli", "key")
	secret, err := os.ReadFile(path)
	if err != nil || !regexp.MustCompile(`^[0-9a-f]{128}$`).Match(secret) {
		t.Fatalf("secret file %q %v", secret, err)
	}
	pub, err := os.ReadFile(path + ".pub")
	if err != nil || string(pub)+"\n" != out || len(pub) != 64 {
		t.Fatalf("public file %q (stdout %q) %v", pub, out, err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("secret key mode %v", st.Mode().Perm())
	}
	key, err := readKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if k := key.PublicKey(); hex.EncodeToString(k[:]) != string(pub) {
		t.Fatalf("derived public key %x, file %s", k, pub)
	}
	// No silent overwrite.
	if code, _, errs := runClient(t, vars, "keygen"); code != 1 || !strings.Contains(errs, "--force") {
		t.Fatalf("second keygen: %d %q", code, errs)
	}
	if again, _ := os.ReadFile(path); !bytes.Equal(again, secret) {
		t.Fatal("key overwritten without --force")
	}
	other := filepath.Join(t.TempDir(), "k")
	if code, _, errs := runClient(t, map[string]string{"CLIENT_KEY_FILE": other}, "keygen", "--force"); code != 0 {
		t.Fatalf("keygen to CLIENT_KEY_FILE: %q", errs)
	}
	// A .pub that belongs to another key is refused.
	if err := os.WriteFile(path+".pub", []byte(strings.Repeat("ab", 32)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readKeyFile(path); err == nil || !strings.Contains(err.Error(), "belongs to") {
		t.Fatalf("mismatched .pub: %v", err)
	}
}

// grenache-cli's test key (tests/sign-test-vector-*.sh), in the files
// grenache-keygen would have written, signs grenache-cli's vector.
func TestReadsGrenacheKeygenFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	secret := "e06d3183d14159228433ed599221b80bd0a5ce8352e4bdf0262f76786ef1c74db7e7a9fea2c0eb269d61e3b38e450a22e754941ac78479d6c54e1faf6037881d"
	if err := os.WriteFile(path, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".pub", []byte("77ff84905a91936367c01360803104f92432fcd904a43511876df5cdf3e7e548\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	key, err := readKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := bep44.SignItem(key, []byte("foobar"), 1, []byte("Hello World!"))
	if hex.EncodeToString(sig) != "6834284b6b24c3204eb2fea824d82f88883a3d95e8b4a21b8c0ded553d17d17ddf9a8a7104b1258f30bed3787e6cb896fca78c58f8e03b5f18f14951a87d9a08" {
		t.Fatalf("signature %x", sig)
	}
	if err := os.WriteFile(path, []byte("not hex"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := readKeyFile(path); err == nil || !strings.Contains(err.Error(), "128 hex") {
		t.Fatalf("bad key file: %v", err)
	}
}

// Every grenache-cli subcommand against a cluster of three Go grapes.
func TestDHTSubcommandsEndToEnd(t *testing.T) {
	gs := grapetest.Cluster(t, 3)
	u0, u1, u2 := gs[0].APIURL(), gs[1].APIURL(), gs[2].APIURL()
	ctx := context.Background()

	code, out, errs := runClient(t, nil, "announce", "--grape", u0, "cli_svc", "4001")
	if code != 0 || !regexp.MustCompile(`^cli_svc 4001 [1-9]\d*\n$`).MatchString(out) {
		t.Fatalf("announce: %d %q %q", code, out, errs)
	}
	code, out, _ = runStdin(t, ctx, nil, "cli_a\n\n  cli_b \n", "announce", "--grape", u0, "-", "4002")
	if code != 0 || !strings.Contains(out, "cli_a 4002 ") || !strings.Contains(out, "cli_b 4002 ") {
		t.Fatalf("announce from stdin: %d %q", code, out)
	}
	code, _, _ = runClient(t, nil, "announce", "--grape", u0, "cli_svc", "4003")
	if code != 0 {
		t.Fatal("second announce")
	}
	// An announce is visible once its reply is in (grenache-protocol.md
	// §2.2); the loop only keeps a loaded machine from failing the test.
	eventually(t, "lookup of cli_svc on the third grape", func() (bool, string) {
		code, out, errs := runClient(t, map[string]string{"CLIENT_GRAPE": u2}, "lookup", "cli_svc")
		lines := strings.Fields(out)
		return code == 0 && len(lines) == 2 && contains(lines, "127.0.0.1:4001") && contains(lines, "127.0.0.1:4003"), out + errs
	})
	if code, out, _ = runClient(t, nil, "lookup", "--first", "--grape", u2, "cli_svc"); code != 0 || len(strings.Fields(out)) != 1 {
		t.Fatalf("lookup --first: %d %q", code, out)
	}
	eventually(t, "lookup of a name read from stdin", func() (bool, string) {
		code, out, errs := runClient(t, nil, "lookup", "--grape", u1, "cli_b", "--all")
		return code == 0 && out == "127.0.0.1:4002\n", out + errs
	})
	if code, _, errs = runClient(t, nil, "lookup", "--grape", u1, "cli_nobody"); code != 1 || !strings.Contains(errs, "no peer") {
		t.Fatalf("lookup of nobody: %d %q", code, errs)
	}

	code, out, errs = runClient(t, nil, "put", "--grape", u0, "hello world")
	if code != 0 || out != "6d33adc2b6b2c14c3036feefb7fedbca1a880527\n" {
		t.Fatalf("put: %d %q %q", code, out, errs)
	}
	if code, out, errs = runClient(t, nil, "get", "--grape", u1, "6d33adc2b6b2c14c3036feefb7fedbca1a880527"); code != 0 || out != "\"hello world\"\n" {
		t.Fatalf("get: %d %q %q", code, out, errs)
	}
	code, out, _ = runClient(t, nil, "get", "--raw", "--grape", u2, "6d33adc2b6b2c14c3036feefb7fedbca1a880527")
	var raw map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &raw) != nil || raw["v"] != "hello world" || raw["id"] == nil {
		t.Fatalf("get --raw: %d %q", code, out)
	}
	file := filepath.Join(t.TempDir(), "value")
	if err := os.WriteFile(file, []byte("from a file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runClient(t, nil, "put", "--grape", u0, "--file", file)
	want := bep44.ImmutableTarget([]byte("from a file\n"))
	if code != 0 || out != hex.EncodeToString(want[:])+"\n" {
		t.Fatalf("put --file: %d %q", code, out)
	}
	if code, out, _ = runStdin(t, ctx, nil, "from stdin", "put", "--grape", u0, "--file", "-"); code != 0 || len(out) != 41 {
		t.Fatalf("put --file -: %d %q", code, out)
	}

	// Mutable: keygen, put with salt and seq, read from every grape, update.
	vars := map[string]string{"HOME": t.TempDir()}
	if code, _, errs := runClient(t, vars, "keygen"); code != 0 {
		t.Fatal(errs)
	}
	code, out, errs = runClient(t, vars, "put", "--grape", u0, "--mutable", "--salt", "cfg", "--seq", "5", "version 5")
	if code != 0 || len(out) != 41 {
		t.Fatalf("put --mutable: %d %q %q", code, out, errs)
	}
	target := strings.TrimSpace(out)
	for _, u := range []string{u0, u1, u2} {
		if code, out, errs := runClient(t, nil, "get", "--grape", u, "--salt", "cfg", target); code != 0 || out != "\"version 5\"\n" {
			t.Fatalf("get mutable from %s: %d %q %q", u, code, out, errs)
		}
	}
	// The default seq is the time in microseconds, far above 5.
	if code, _, errs = runClient(t, vars, "put", "--grape", u1, "--mutable", "--salt", "cfg", "version now"); code != 0 {
		t.Fatalf("put with default seq: %q", errs)
	}
	code, out, _ = runClient(t, nil, "get", "--raw", "--grape", u2, "--salt", "cfg", target)
	var item struct {
		V   string `json:"v"`
		Seq int64  `json:"seq"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &item) != nil || item.V != "version now" || item.Seq < time.Now().Add(-time.Hour).UnixMicro() {
		t.Fatalf("after update: %d %q", code, out)
	}
	if code, _, errs = runClient(t, vars, "put", "--grape", u0, "--mutable", "--salt", "cfg", "--seq", "6", "older"); code != 1 || !strings.Contains(errs, "302") {
		t.Fatalf("lower seq: %d %q", code, errs)
	}
	if code, _, errs = runClient(t, vars, "put", "--grape", u0, "--mutable", "--salt", "cfg", "--seq", "9007199254740992", "--cas", "7", "cas"); code != 1 || !strings.Contains(errs, "301") {
		t.Fatalf("wrong cas: %d %q", code, errs)
	}
}

// eventually retries ok for up to 10 s, failing with its last detail.
func eventually(t *testing.T, what string, ok func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		done, detail := ok()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after 10 s; last: %q", what, detail)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// announce --interval keeps announcing until its context ends (SIGINT or
// SIGTERM in the binary), then exits 0.
func TestAnnounceIntervalRunsUntilCancelled(t *testing.T) {
	gs := grapetest.Cluster(t, 2)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var out, errb bytes.Buffer
	go func() {
		done <- runIO(ctx, []string{"announce", "--grape", gs[0].APIURL(), "--interval", "100ms", "cli_loop", "4100"},
			env(nil), strings.NewReader(""), &out, &errb)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, got, _ := runClient(t, nil, "lookup", "--grape", gs[1].APIURL(), "cli_loop")
		if code == 0 && got == "127.0.0.1:4100\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never visible; announce stderr %q", errb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	select {
	case code := <-done:
		t.Fatalf("announce --interval returned %d before it was stopped", code)
	case <-time.After(300 * time.Millisecond):
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d, stderr %q", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("announce --interval did not stop")
	}
}

// client get refuses what a tampering grape returns and says which check failed.
func TestGetCommandRejectsTampering(t *testing.T) {
	gs := grapetest.Cluster(t, 2)
	vars := map[string]string{"HOME": t.TempDir()}
	if code, _, errs := runClient(t, vars, "keygen"); code != 0 {
		t.Fatal(errs)
	}
	_, imm, _ := runClient(t, nil, "put", "--grape", gs[0].APIURL(), "genuine")
	code, mut, errs := runClient(t, vars, "put", "--grape", gs[0].APIURL(), "--mutable", "genuine")
	if code != 0 {
		t.Fatal(errs)
	}
	forge := grapetest.TamperingProxy(t, gs[1].APIURL(), func(endpoint string, reply []byte) []byte {
		if endpoint == "get" {
			return bytes.Replace(reply, []byte(`"v":"genuine"`), []byte(`"v":"forged"`), 1)
		}
		return reply
	})
	for _, c := range []struct{ target, check string }{{imm, "value hash"}, {mut, "signature"}} {
		code, out, errs := runClient(t, nil, "get", "--grape", forge, strings.TrimSpace(c.target))
		if code != 1 || out != "" || !strings.Contains(errs, "REJECTED") || !strings.Contains(errs, "the "+c.check+" check") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", c.check, code, out, errs)
		}
		if code, out, _ := runClient(t, nil, "get", "--raw", "--grape", forge, strings.TrimSpace(c.target)); code != 1 || out != "" {
			t.Errorf("%s --raw: exit %d, stdout %q", c.check, code, out)
		}
	}
}

func TestDHTSubcommandSettingsErrors(t *testing.T) {
	home := map[string]string{"HOME": t.TempDir()}
	cases := []struct {
		vars map[string]string
		args []string
		want []string
	}{
		{nil, []string{"lookup"}, []string{"want NAME"}},
		{nil, []string{"lookup", "--raw", "x"}, []string{"--raw", "does not apply", "--first"}},
		{nil, []string{"lookup", "--all", "--first", "x"}, []string{"exclude"}},
		{nil, []string{"announce", "x", "port"}, []string{"PORT", "0..65535"}},
		{nil, []string{"announce", "x", "70000"}, []string{"0..65535"}},
		{nil, []string{"announce", "-", "1"}, []string{"no names"}},
		{nil, []string{"announce", "--interval", "-5", "x", "1"}, []string{"--interval", "0..86400000"}},
		{nil, []string{"put"}, []string{"VALUE or --file"}},
		{nil, []string{"put", "--salt", "s", "v"}, []string{"--mutable"}},
		{nil, []string{"put", strings.Repeat("x", 1000)}, []string{"1000"}},
		{nil, []string{"put", "--file", "/nonexistent/value"}, []string{"--file"}},
		{home, []string{"put", "--mutable", "v"}, []string{"--key", "CLIENT_KEY_FILE", "client keygen"}},
		{nil, []string{"put", "--mutable", "--seq", "-2", "v"}, []string{"--seq", "-1..9007199254740992"}},
		{nil, []string{"get"}, []string{"want HASH"}},
		{map[string]string{"CLIENT_REQUEST_TIMEOUT": "soon"}, []string{"get", "ab"}, []string{"--timeout", "CLIENT_REQUEST_TIMEOUT"}},
		{nil, []string{"get", "--grape", "ftp://x", "ab"}, []string{"--grape", "CLIENT_GRAPE"}},
		{nil, []string{"keygen", "extra"}, []string{"no arguments"}},
	}
	for _, c := range cases {
		code, _, errs := runClient(t, c.vars, c.args...)
		if code != exitSettings {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", c.args, code, errs)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(errs, w) {
				t.Errorf("%v: stderr %q lacks %q", c.args, errs, w)
			}
		}
	}
	// A target that is not 40 hex characters is refused before any request.
	if code, _, errs := runClient(t, nil, "get", "--grape", "http://127.0.0.1:1", "abc"); code != 1 || !strings.Contains(errs, "40 hex") {
		t.Errorf("short hash: %d %q", code, errs)
	}
	if code, out, _ := runClient(t, nil, "get", "-h"); code != 0 || !strings.Contains(out, "--salt") || !strings.Contains(out, "CLIENT_KEY_FILE") {
		t.Errorf("get -h: %d %q", code, out)
	}
}
