// Package memo keeps the results of pure functions of a string that many
// files ask for with the same argument (parsing the same image reference in
// every Dockerfile of a tree), shared by all goroutines.
package memo

import (
	"sync"
	"sync/atomic"
)

// Map remembers up to Max results; when it is full it forgets them all
// and starts again, so memory stays bounded whatever the input.
type Map[V any] struct {
	Max int // 0 means 4096
	m   sync.Map
	n   atomic.Int64
}

// Get returns f(key), from memory when the key was asked before. f must
// be pure and its result must not be changed by callers.
func (c *Map[V]) Get(key string, f func(string) V) V {
	if v, ok := c.m.Load(key); ok {
		return v.(V)
	}
	v := f(key)
	max := c.Max
	if max <= 0 {
		max = 4096
	}
	if c.n.Add(1) > int64(max) {
		c.m.Clear()
		c.n.Store(1)
	}
	c.m.Store(key, v)
	return v
}
