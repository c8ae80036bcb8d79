package settingscheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// root is the repository root, seen from this package's directory.
const root = "../.."

// binaries are the commands whose settings docs/configuration.md lists.
var binaries = []string{"grape", "worker", "client"}

// setting is one field of a settings struct, as its tags declare it.
type setting struct {
	env      string   // variable, "" for a flag-only setting
	flags    []string // flag name and aliases, without dashes
	def      string   // envDefault
	required bool
	duration bool   // a time.Duration: a bare integer of ms or a Go duration
	where    string // file:line, for messages
}

// key identifies a setting within its binary: its variable, or its first
// flag when it has none.
func (s setting) key() string {
	if s.env != "" {
		return s.env
	}
	if len(s.flags) > 0 {
		return "--" + s.flags[0]
	}
	return ""
}

// declaredSettings parses the non-test Go files of cmd/<binary> and
// returns every struct field that carries an env or flag tag, keyed by
// setting. A key declared twice is an error: a setting several commands
// share belongs in one embedded struct.
func declaredSettings(t *testing.T, binary string) map[string]setting {
	t.Helper()
	dir := filepath.Join(root, "cmd", binary)
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in %s: %v", dir, err)
	}
	fset := token.NewFileSet()
	out := map[string]setting{}
	flagOwner := map[string]string{}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			st, ok := n.(*ast.StructType)
			if !ok {
				return true
			}
			for _, fld := range st.Fields.List {
				if fld.Tag == nil {
					continue
				}
				raw, err := strconv.Unquote(fld.Tag.Value)
				if err != nil {
					t.Fatalf("%s: tag %s: %v", fset.Position(fld.Pos()), fld.Tag.Value, err)
				}
				tag := reflect.StructTag(raw)
				envName, _, _ := strings.Cut(tag.Get("env"), ",")
				flagTag := tag.Get("flag")
				if envName == "" && flagTag == "" {
					continue
				}
				s := setting{env: envName, def: tag.Get("envDefault"), required: tag.Get("required") == "true",
					duration: isDuration(fld.Type), where: fset.Position(fld.Pos()).String()}
				if flagTag != "" {
					s.flags = strings.Split(flagTag, ",")
				}
				if prev, dup := out[s.key()]; dup {
					t.Errorf("%s: %s is declared twice (first at %s); declare a shared setting once, in an embedded struct", s.where, s.key(), prev.where)
				}
				for _, fl := range s.flags {
					if prev, dup := flagOwner[fl]; dup {
						t.Errorf("%s: flag --%s is declared twice (first at %s)", s.where, fl, prev)
					}
					flagOwner[fl] = s.where
				}
				out[s.key()] = s
			}
			return true
		})
	}
	if len(out) == 0 {
		t.Fatalf("no settings found in %s", dir)
	}
	return out
}

// isDuration says whether a field's type is time.Duration.
func isDuration(e ast.Expr) bool {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	pkg, ok := sel.X.(*ast.Ident)
	return ok && pkg.Name == "time" && sel.Sel.Name == "Duration"
}

// sortedKeys lists a map's keys in order, for stable messages.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// The parser sees what pkg/config sees: a few known declarations.
func TestDeclaredSettingsAreFound(t *testing.T) {
	want := map[string]map[string]string{
		"grape":  {"GRAPE_PEER_MAX_AGE": "120000", "--cache_maxAge": ""},
		"worker": {"WORKER_ANNOUNCE_INTERVAL": "5000"},
		"client": {"CLIENT_GRAPE": "http://127.0.0.1:30001", "GOSSIP_HINT_TTL": "60000", "--duration": "30s", "--seq": "-1"},
	}
	for _, b := range binaries {
		got := declaredSettings(t, b)
		for k, def := range want[b] {
			if s, ok := got[k]; !ok || s.def != def {
				t.Errorf("%s: %s declared as %+v, want default %q", b, k, s, def)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("root %s is not the repository: %v", root, err)
	}
}
