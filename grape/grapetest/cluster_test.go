package grapetest_test

import (
	"testing"

	"github.com/grenache-go/grenache/grape/grapetest"
	"github.com/grenache-go/grenache/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

func TestClusterConnects(t *testing.T) {
	gs := grapetest.Cluster(t, 4)
	if len(gs) != 4 {
		t.Fatalf("%d grapes", len(gs))
	}
	// Cluster already proved first→last; check the middle too.
	if _, err := grapetest.Call(gs[1].APIURL(), "announce", `["mid",7]`); err != nil {
		t.Fatal(err)
	}
	if body, _ := grapetest.Call(gs[3].APIURL(), "lookup", `"mid"`); body != `["127.0.0.1:7"]` {
		t.Errorf("lookup on grape 3: %s", body)
	}
}
