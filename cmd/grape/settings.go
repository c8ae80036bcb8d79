package main

import "time"

// settings are the grape's command-line flags (Node's names and aliases)
// and their environment variables. Every duration takes a bare integer of
// milliseconds, as in Node (--dpa 120000 is 120 s), or a Go duration ("2m").
type settings struct {
	DHTPort        int           `env:"GRAPE_DHT_PORT" flag:"dp,dht_port" required:"true" allowed:"0..65535" usage:"UDP port of the DHT (0 picks a free one)"`
	APIPort        int           `env:"GRAPE_API_PORT" flag:"aph,api_port" required:"true" allowed:"0..65535" usage:"TCP port of the HTTP API (0 picks a free one)"`
	Bootstrap      []string      `env:"GRAPE_BOOTSTRAP" flag:"bn,bootstrap" usage:"comma-separated host:port list of DHT nodes to join through ('' = none)"`
	Bind           string        `env:"GRAPE_BIND" flag:"b,bind" usage:"IP the HTTP API listens on; also stores this grape's own announcements under it (empty = all interfaces, no self-store)"`
	PeerMaxAge     time.Duration `env:"GRAPE_PEER_MAX_AGE" envDefault:"120000" flag:"dpa,dht_peer_maxAge" allowed:"0.." usage:"max age of announced peers (0 = never expire)"`
	MaxTables      int           `env:"GRAPE_MAX_TABLES" envDefault:"5000" flag:"dht_maxTables" allowed:"1.." usage:"max number of per-key DHT lookup tables"`
	MaxValues      int           `env:"GRAPE_MAX_VALUES" envDefault:"5000" flag:"dht_maxValues" allowed:"1.." usage:"max number of stored BEP44 values"`
	NodeLiveness   time.Duration `env:"GRAPE_NODE_LIVENESS" envDefault:"300000" flag:"dnl,dht_nodeLiveness" allowed:"1.." usage:"time without routing-table change before all DHT nodes are pinged"`
	MaxPayloadSize int64         `env:"GRAPE_MAX_PAYLOAD_SIZE" envDefault:"8192" flag:"check_maxPayloadSize" allowed:"1.." usage:"HTTP body limit in bytes (larger bodies get 413)"`
	Concurrency    int           `env:"GRAPE_CONCURRENCY" envDefault:"16" flag:"dc,dht_concurrency" allowed:"1..1024" usage:"KRPC queries in flight per DHT lookup"`
	QueryTimeout   time.Duration `env:"GRAPE_QUERY_TIMEOUT" envDefault:"2s" flag:"query_timeout" allowed:"1..60000" usage:"how long one KRPC query waits for its reply"`
	LookupCacheTTL time.Duration `env:"GRAPE_LOOKUP_CACHE_TTL" envDefault:"500" flag:"lookup_cache_ttl" allowed:"0..1000" usage:"how long a finished DHT walk may answer repeated /lookup calls of one name (0 = walk every time, like Node); at most 1000 so a new announcement shows within about a second"`
	BodyBudget     int64         `env:"GRAPE_BODY_BUDGET" envDefault:"16777216" flag:"body_budget" allowed:"2.." usage:"bytes of request bodies read at once over all API connections (more than --check_maxPayloadSize); a request that finds it spent waits up to 1 s, then gets 503 ERR_GRAPE_BUSY"`
	MaxConns       int           `env:"GRAPE_MAX_CONNS" envDefault:"4096" flag:"max_conns" allowed:"0.." usage:"API connections open at once (0 = no cap); at the cap new connections wait in the kernel backlog"`
	HeaderTimeout  time.Duration `env:"GRAPE_HEADER_TIMEOUT" envDefault:"10000" flag:"header_timeout" allowed:"1..10000" usage:"how long a client may take to send a request's headers before the connection is dropped (Node: 60 s)"`
	MaxPeers       int           `env:"GRAPE_MAX_PEERS" envDefault:"10000" flag:"dht_maxPeers" allowed:"1.." usage:"max announcements in the DHT peer store over all keys; when full, the source (announcing IP) holding the most loses its oldest"`
	MaxPeerBytes   int           `env:"GRAPE_MAX_PEER_BYTES" envDefault:"33554432" flag:"dht_maxPeerBytes" allowed:"1048576.." usage:"byte budget of the DHT peer store (key bytes plus 896 per announcement)"`
	MaxValueBytes  int           `env:"GRAPE_MAX_VALUE_BYTES" envDefault:"8388608" flag:"dht_maxValueBytes" allowed:"1048576.." usage:"byte budget of the BEP44 value store (value and salt bytes plus 448 per item)"`
	MaxTableBytes  int           `env:"GRAPE_MAX_TABLE_BYTES" envDefault:"16777216" flag:"dht_maxTableBytes" allowed:"1048576.." usage:"byte budget of the per-key DHT lookup tables (key and token bytes plus 256 per table and 112 per node)"`
	CacheMaxAge    time.Duration `flag:"cache_maxAge" usage:"accepted for compatibility with Node's grape, which ignores it too"`
	LogFormat      string        `env:"GRAPE_LOG_FORMAT" envDefault:"auto" flag:"log-format" allowed:"auto|json|console" usage:"log format (auto = console on a terminal, json otherwise)"`
	LogLevel       string        `env:"GRAPE_LOG_LEVEL" envDefault:"info" flag:"log-level" allowed:"trace|debug|info|warn|error" usage:"log level"`

	// Byte budgets of the memories /lookup fills from remote input.
	LookupCacheBytes int `env:"GRAPE_LOOKUP_CACHE_BYTES" envDefault:"4194304" flag:"lookup_cache_bytes" allowed:"65536..1073741824" usage:"byte budget of the lookup cache (names, from lookups and announce_peer queries, plus 160 bytes each)"`
	SeenPeersBytes   int `env:"GRAPE_SEEN_PEERS_BYTES" envDefault:"8388608" flag:"seen_peers_bytes" allowed:"65536..1073741824" usage:"byte budget of the seen-peers memory behind /lookup (names plus 400 bytes, records plus 80 bytes each)"`

	// Node's Grape events for scripts and the Node-suite shim.
	Events bool `env:"GRAPE_EVENTS" envDefault:"false" flag:"events" usage:"print the grape's events (listening, ready, announce, node, peer, warning) on stdout as JSON lines; logs stay on stderr"`
}
