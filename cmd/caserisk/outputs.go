package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// output says what a command's --out names.
type output struct {
	// exts are the file extensions the command writes (without the dot);
	// --out with any other extension is a usage error.
	exts []string
	// stdout: --out - writes to standard output.
	stdout bool
}

// outputs lists, by command path below caserisk, the commands whose --out
// is a file. Commands whose --out is a directory are in outputDirs; a test
// holds every command with an --out flag to be in one of the two.
var outputs = map[string]output{
	"features":           {exts: []string{"csv", "parquet"}},
	"score":              {exts: []string{"csv"}, stdout: true},
	"train":              {exts: []string{"json"}},
	"import":             {exts: []string{"json"}},
	"labels export":      {exts: []string{"csv"}, stdout: true},
	"models labels":      {exts: []string{"csv"}, stdout: true},
	"link review export": {exts: []string{"csv"}},
}

// outputDirs are the commands whose --out is a directory.
var outputDirs = []string{"generate", "link", "report"}

// markOutputs tells shell completion which files each --out takes.
func markOutputs(root *cobra.Command) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if f := c.Flags().Lookup("out"); f != nil {
			if o, ok := outputs[where(c)]; ok {
				_ = c.MarkFlagFilename("out", o.exts...)
			} else if slices.Contains(outputDirs, where(c)) {
				_ = c.MarkFlagDirname("out")
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// checkOutput refuses an --out whose extension the command does not write
// (features --out x.txt would otherwise be written as CSV under that name).
func checkOutput(cmd *cobra.Command) error {
	f := cmd.Flags().Lookup("out")
	o, ok := outputs[where(cmd)]
	if f == nil || !ok || f.Value.String() == "" {
		return nil
	}
	path := f.Value.String()
	if path == "-" {
		if o.stdout {
			return nil
		}
		return usagef("%s: --out -: this command writes a file, not standard output; name one ending in %s", where(cmd), extList(o.exts))
	}
	ext := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	if slices.Contains(o.exts, ext) {
		return nil
	}
	what := fmt.Sprintf("the extension %q is not one this command writes", "."+ext)
	if ext == "" {
		what = "the name has no extension"
	}
	return usagef("%s: --out %s: %s; use %s", where(cmd), path, what, extList(o.exts))
}

// extList formats extensions for a message: ".csv or .parquet".
func extList(exts []string) string {
	dotted := make([]string, len(exts))
	for i, e := range exts {
		dotted[i] = "." + e
	}
	if len(dotted) == 1 {
		return dotted[0]
	}
	return strings.Join(dotted[:len(dotted)-1], ", ") + " or " + dotted[len(dotted)-1]
}
