package settingscheck

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// docRow is one row of a settings table in docs/configuration.md.
type docRow struct {
	binary   string
	env      string
	flags    []string
	def      string
	required bool
	inMS     bool // the allowed cell is in milliseconds
	line     int
}

func (r docRow) key() string {
	return setting{env: r.env, flags: r.flags}.key()
}

// sectionBinary says whose settings the tables under a "## " heading are.
func sectionBinary(heading string) string {
	switch {
	case heading == "grape", heading == "worker", heading == "client":
		return heading
	case strings.HasPrefix(heading, "Gossip hints"):
		return "client" // client run --gossip
	}
	return ""
}

// splitCells splits a Markdown table row on the pipes outside code spans.
func splitCells(row string) []string {
	row = strings.TrimSpace(row)
	row = strings.TrimPrefix(strings.TrimSuffix(row, "|"), "|")
	var cells []string
	var cur strings.Builder
	inCode := false
	for _, r := range row {
		switch {
		case r == '`':
			inCode = !inCode
		case r == '|' && !inCode:
			cells = append(cells, strings.TrimSpace(cur.String()))
			cur.Reset()
			continue
		}
		cur.WriteRune(r)
	}
	return append(cells, strings.TrimSpace(cur.String()))
}

var codeSpan = regexp.MustCompile("`([^`]*)`")

// msUnit finds a range in milliseconds in an allowed cell ("1..60000 ms").
var msUnit = regexp.MustCompile(`\bms\b`)

// docRows reads every settings table of docs/configuration.md: a table
// under a binary's "## " section whose header has the columns flag,
// variable and default. Other tables (exit codes, budgets) are prose.
func docRows(t *testing.T) []docRow {
	t.Helper()
	path := filepath.Join(root, "docs", "configuration.md")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []docRow
	var binary string
	var cols map[string]int // of the settings table being read; nil outside one
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if h, ok := strings.CutPrefix(line, "## "); ok {
			binary, cols = sectionBinary(h), nil
			continue
		}
		if !strings.HasPrefix(line, "|") {
			cols = nil
			continue
		}
		cells := splitCells(line)
		if strings.HasPrefix(line, "|---") {
			continue
		}
		if cols == nil {
			header := map[string]int{}
			for i, c := range cells {
				header[c] = i
			}
			_, hasFlag := header["flag"]
			_, hasVar := header["variable"]
			_, hasDef := header["default"]
			if binary != "" && hasFlag && hasVar && hasDef {
				cols = header
			} else {
				cols = map[string]int{} // another table: skip its rows
			}
			continue
		}
		if len(cols) == 0 {
			continue
		}
		if len(cells) <= max(cols["flag"], cols["variable"], cols["default"]) {
			t.Errorf("configuration.md:%d: row has %d cells: %s", n, len(cells), line)
			continue
		}
		r := docRow{binary: binary, line: n}
		for _, m := range codeSpan.FindAllStringSubmatch(cells[cols["flag"]], -1) {
			r.flags = append(r.flags, strings.TrimLeft(m[1], "-"))
		}
		if v := cells[cols["variable"]]; v != "–" {
			m := codeSpan.FindStringSubmatch(v)
			if m == nil || m[0] != v {
				t.Errorf("configuration.md:%d: variable cell %q: want `NAME` or –", n, v)
				continue
			}
			r.env = m[1]
		}
		if a, ok := cols["allowed"]; ok && a < len(cells) {
			r.inMS = msUnit.MatchString(cells[a])
		}
		d := cells[cols["default"]]
		switch {
		case d == "**required**":
			r.required = true
		case strings.HasPrefix(d, "–"):
		case strings.HasPrefix(d, "`"):
			r.def = codeSpan.FindStringSubmatch(d)[1]
		default:
			t.Errorf("configuration.md:%d: default cell %q: want `value` first, – (no default) or **required**", n, d)
			continue
		}
		if r.key() == "" {
			t.Errorf("configuration.md:%d: row names neither a flag nor a variable: %s", n, line)
			continue
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// docs/configuration.md lists exactly the settings the binaries declare,
// each with the flags, variable and default of its declaration, so the
// document cannot drift from the code.
func TestConfigurationDocListsExactlyTheDeclaredSettings(t *testing.T) {
	rows := docRows(t)
	for _, b := range binaries {
		declared := declaredSettings(t, b)
		documented := map[string]bool{}
		for _, r := range rows {
			if r.binary != b {
				continue
			}
			documented[r.key()] = true
			s, ok := declared[r.key()]
			if !ok {
				t.Errorf("configuration.md:%d: %s lists %s, which %s does not declare", r.line, b, r.key(), b)
				continue
			}
			if !slices.Equal(r.flags, s.flags) {
				t.Errorf("configuration.md:%d: %s flags %q, declared %q (%s)", r.line, r.key(), r.flags, s.flags, s.where)
			}
			if r.inMS != s.duration {
				t.Errorf("configuration.md:%d: %s allowed in ms: %v, declared a time.Duration: %v (%s); a duration setting takes a bare integer of ms or a Go duration, and its allowed cell says ms",
					r.line, r.key(), r.inMS, s.duration, s.where)
			}
			if r.required != s.required || !r.required && r.def != s.def {
				t.Errorf("configuration.md:%d: %s default %q (required %v), declared %q (required %v, %s)",
					r.line, r.key(), r.def, r.required, s.def, s.required, s.where)
			}
		}
		for _, k := range sortedKeys(declared) {
			if !documented[k] {
				t.Errorf("%s declares %s (%s), which configuration.md's %s tables do not list", b, k, declared[k].where, b)
			}
		}
	}
}

// The table parser reads the forms the document uses.
func TestSplitCellsKeepsPipesInCode(t *testing.T) {
	got := splitCells("| `--log-format` | `A_B` | `auto` | `a|b` | x |")
	want := []string{"`--log-format`", "`A_B`", "`auto`", "`a|b`", "x"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
