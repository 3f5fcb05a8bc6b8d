// Command gendict writes the compressed Chinese word list the engine derives
// its lean dictionaries from: gse's Simplified Chinese dictionary, read from
// the module cache, one "word frequency" line each, gzip-compressed.
//
// Run it through go generate in package search.
package main

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gendict:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) != 2 {
		return fmt.Errorf("usage: gendict OUTPUT.gz")
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/go-ego/gse").Output()
	if err != nil {
		return fmt.Errorf("find gse in the module cache: %w", err)
	}
	src := filepath.Join(strings.TrimSpace(string(out)), "data", "dict", "zh", "s_1.txt")
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	f, err := os.Create(os.Args[1])
	if err != nil {
		return err
	}
	zw, err := gzip.NewWriterLevel(f, gzip.BestCompression)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(zw)
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		// Keep word and frequency; the part of speech is not used.
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		fmt.Fprintf(w, "%s %s\n", fields[0], fields[1])
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}
