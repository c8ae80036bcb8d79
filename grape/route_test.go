package grape

import "testing"

// The expected names were produced by grenache-grape's own helpers
// (handlePeer + upperFirst(camelCase("-" + target))) under Node 20.
func TestResolveEndpointMatchesNode(t *testing.T) {
	cases := map[string]string{
		"lookup": "Lookup", "Lookup": "Lookup", "LOOKUP": "LOOKUP", "lookUp": "LookUp",
		"-lookup": "Lookup", "_lookup": "Lookup", "__lookup": "Lookup", "look_up": "LookUp",
		"lookup?x=1": "Lookup?X=1", "lookup/": "Lookup/", "announce": "Announce",
		"Announce": "Announce", "put": "Put", "PUT": "PUT", "Put": "Put", "get": "Get",
		"gET": "GET", "": "", "9get": "9get", "a-b_c d": "ABCD", "x_Y-zz": "XYZz",
		"get_": "Get", "-_-get": "Get", ".lookup": ".Lookup", "lookup%20": "Lookup%20",
		"Get-": "Get", "ann_ounce": "AnnOunce", "_-announce": "Announce",
	}
	for in, want := range cases {
		if got := upperFirst(camelCase("-" + in)); got != want {
			t.Errorf("camelCase(%q) = %q, want %q", in, got, want)
		}
	}
	eps := map[string]string{
		"/lookup": epLookup, "/Lookup": epLookup, "/LOOKUP": "", "/lookup?x=1": "",
		"/get_": epGet, "/Put": epPut, "/announce": epAnnounce, "*": "",
		// Go extension: resolved the same way as Node's endpoints.
		"/unannounce": epUnannounce, "/-unannounce": epUnannounce, "/UNANNOUNCE": "", "/unregister": "",
		"": "", "/": "", "http://h/lookup": "",
	}
	for in, want := range eps {
		if got := resolveEndpoint(in); got != want {
			t.Errorf("resolveEndpoint(%q) = %q, want %q", in, got, want)
		}
	}
}
