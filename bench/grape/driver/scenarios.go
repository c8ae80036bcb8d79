package main

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"
)

// freshResult is the "new announcement under load" measurement.
type freshResult struct {
	Times    []time.Duration // announce sent -> visible on every grape
	Announce []time.Duration // the /announce call itself
}

// freshUnderLoad keeps 64 connections of rotating lookups on gs[0] and,
// meanwhile, announces new names on gs[0] one after another, timing each
// from the announce request until every grape's /lookup returns it.
func (c *config) freshUnderLoad(gs []*runningGrape, rounds int) (freshResult, error) {
	var res freshResult
	loadDone := make(chan error, 1)
	go func() {
		_, err := c.runLoad(loadSpec{url: gs[0].api + "/lookup", conc: 64, names: c.names,
			warmup: 500 * time.Millisecond, dur: time.Duration(rounds)*time.Second + 2*time.Second})
		loadDone <- err
	}()
	time.Sleep(1500 * time.Millisecond) // load is running and warm
	for k := range rounds {
		name := "bench-fresh-" + strconv.Itoa(k) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		port := 50000 + k
		t0 := time.Now()
		if err := announce(gs[0], name, port); err != nil {
			return res, err
		}
		res.Announce = append(res.Announce, time.Since(t0))
		for {
			all := true
			for _, g := range gs {
				ok, err := lookupHas(g, name, port)
				if err != nil {
					return res, err
				}
				all = all && ok
			}
			if all {
				res.Times = append(res.Times, time.Since(t0))
				break
			}
			if time.Since(t0) > 10*time.Second {
				res.Times = append(res.Times, -1) // never visible
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if err := <-loadDone; err != nil {
		return res, err
	}
	return res, nil
}

// killResult is the "one grape of five killed" measurement.
type killResult struct {
	First []time.Duration // first lookup on each survivor after the kill
	All   []time.Duration // every lookup on every survivor
	Wrong int             // lookups that did not return the announced peer
}

// killOneOfFive starts 5 grapes (each bootstrapped at the other four),
// SIGKILLs the last one, then times rounds of lookups of an announced name
// on the four survivors (in parallel across survivors, sequential on each).
func (c *config) killOneOfFive(im impl, rounds int) (killResult, error) {
	var res killResult
	gs, err := startCluster(im, 5)
	defer stopCluster(gs)
	if err != nil {
		return res, err
	}
	// One name per round, each looked up once by every grape before the
	// kill, so every lookup after it is a first lookup of its name since.
	names := make([]string, rounds)
	for r := range names {
		names[r] = fmt.Sprintf("bench-kill-svc-%d", r)
		if err := waitVisible(gs, names[r], killPort+r, 20*time.Second); err != nil {
			return res, err
		}
		// Every grape has walked the whole cluster at least once.
		for _, g := range gs {
			if _, err := lookupHas(g, names[r], killPort+r); err != nil {
				return res, err
			}
		}
	}
	gs[4].p.kill()
	// Outwait the Go grape's lookup cache (LookupCacheTTL, 500 ms by
	// default): every lookup below then walks the DHT past the dead grape,
	// which is what this scenario measures. Node grapes walk every time.
	time.Sleep(killCacheWait)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, g := range gs[:4] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				t0 := time.Now()
				ok, err := lookupHas(g, names[r], killPort+r)
				d := time.Since(t0)
				mu.Lock()
				if r == 0 {
					res.First = append(res.First, d)
				}
				res.All = append(res.All, d)
				if err != nil || !ok {
					res.Wrong++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return res, nil
}

// killPort is the port announced for the kill scenario's first name;
// killCacheWait is longer than the Go grape's default LookupCacheTTL.
const (
	killPort      = 4242
	killCacheWait = time.Second
)

// median of a copy of ds.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func ms(d time.Duration) string {
	if d < 0 {
		return "never"
	}
	return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
}
