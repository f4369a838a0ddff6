// Command standinorder prints the stand-in folders of e2e/standins in the
// order e2e/run.sh must build them: a stand-in comes after every stand-in
// whose image its Containerfile starts FROM. Folder names say nothing about
// that (node-full sorts before node but is built on it), and a machine that
// still has the images from an earlier run hides a wrong order, so the order
// is derived from the files themselves.
//
//	go run ./e2e/standinorder e2e/standins
//
// Each stand-in is a folder with a Containerfile whose "# image: NAME" lines
// name the images it is tagged as. Ties are broken by folder name, so the
// order is the same on every machine.
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: standinorder DIR")
		os.Exit(2)
	}
	order, err := buildOrder(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "standinorder:", err)
		os.Exit(1)
	}
	for _, name := range order {
		fmt.Println(name)
	}
}

// standin is one folder of the stand-ins directory.
type standin struct {
	name   string   // folder name
	images []string // normalised "# image:" names
	froms  []string // normalised external FROM images
}

// buildOrder returns the folder names under dir in an order in which every
// stand-in follows the stand-ins it is built FROM.
func buildOrder(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var all []standin
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		s, err := readStandin(filepath.Join(dir, e.Name(), "Containerfile"))
		if err != nil {
			return nil, err
		}
		s.name = e.Name()
		all = append(all, s)
	}
	owner := map[string]string{} // image name -> folder that builds it
	for _, s := range all {
		for _, img := range s.images {
			if other, dup := owner[img]; dup {
				return nil, fmt.Errorf("%s and %s both build %s", other, s.name, img)
			}
			owner[img] = s.name
		}
	}
	deps := map[string]map[string]bool{}
	for _, s := range all {
		deps[s.name] = map[string]bool{}
		for _, from := range s.froms {
			if o, ok := owner[from]; ok && o != s.name {
				deps[s.name][o] = true
			}
		}
	}
	// Kahn's algorithm; ready stand-ins are taken in name order.
	var order []string
	done := map[string]bool{}
	for len(order) < len(all) {
		var ready []string
		for _, s := range all {
			if done[s.name] {
				continue
			}
			ok := true
			for d := range deps[s.name] {
				ok = ok && done[d]
			}
			if ok {
				ready = append(ready, s.name)
			}
		}
		if len(ready) == 0 {
			var left []string
			for _, s := range all {
				if !done[s.name] {
					left = append(left, s.name)
				}
			}
			return nil, fmt.Errorf("stand-ins start FROM each other in a cycle: %s", strings.Join(left, ", "))
		}
		sort.Strings(ready)
		for _, name := range ready {
			done[name] = true
			order = append(order, name)
		}
	}
	return order, nil
}

// readStandin reads the "# image:" names and the external FROM images of a
// Containerfile (FROM lines that name an earlier stage are not images).
func readStandin(path string) (standin, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return standin{}, err
	}
	var s standin
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		if rest, ok := strings.CutPrefix(sc.Text(), "# image:"); ok {
			img, err := normalise(strings.TrimSpace(rest))
			if err != nil {
				return standin{}, fmt.Errorf("%s:%d: %v", path, line, err)
			}
			s.images = append(s.images, img)
		}
	}
	if len(s.images) == 0 {
		return standin{}, fmt.Errorf("%s has no '# image: NAME' line", path)
	}
	res, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		return standin{}, fmt.Errorf("%s: %v", path, err)
	}
	stages := map[string]bool{}
	for _, n := range res.AST.Children {
		if !strings.EqualFold(n.Value, "from") || n.Next == nil {
			continue
		}
		var args []string
		for a := n.Next; a != nil; a = a.Next {
			args = append(args, a.Value)
		}
		from := args[0]
		if !stages[strings.ToLower(from)] && from != "scratch" {
			img, err := normalise(from)
			if err != nil {
				return standin{}, fmt.Errorf("%s:%d: FROM %s: %v", path, n.StartLine, from, err)
			}
			s.froms = append(s.froms, img)
		}
		// The alias names a stage only for the FROM lines after this one.
		if len(args) >= 3 && strings.EqualFold(args[1], "as") {
			stages[strings.ToLower(args[2])] = true
		}
	}
	return s, nil
}

// normalise spells an image reference the one way ("docker.io/library/x:tag").
func normalise(ref string) (string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", err
	}
	return reference.TagNameOnly(named).String(), nil
}
