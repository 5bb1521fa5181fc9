package jsonscan

import (
	"go/ast"
	"go/build"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// The package builds where int has 32 bits (386, arm, mips): a mask of
// the space bytes has bit ' ' (32) set, and as an untyped constant shifted
// by a byte it is an int there, which it overflows. The 64-bit build the
// tests run on cannot see that, so the package is type-checked here with
// each platform's sizes.
func TestPackageTypeChecksOnEveryWordSize(t *testing.T) {
	for _, arch := range []string{"386", "arm", "amd64", "arm64", "s390x"} {
		t.Run(arch, func(t *testing.T) {
			ctx := build.Default
			ctx.GOARCH, ctx.CgoEnabled = arch, false
			pkg, err := ctx.ImportDir(".", 0)
			require.NoError(t, err)
			fset := token.NewFileSet()
			var files []*ast.File
			for _, name := range pkg.GoFiles {
				f, err := parser.ParseFile(fset, filepath.Join(pkg.Dir, name), nil, 0)
				require.NoError(t, err)
				files = append(files, f)
			}
			var errs []string
			conf := types.Config{
				Importer: importer.ForCompiler(fset, "source", nil),
				Sizes:    types.SizesFor("gc", arch),
				Error:    func(err error) { errs = append(errs, err.Error()) },
			}
			_, _ = conf.Check(pkg.ImportPath, fset, files, nil)
			require.Empty(t, errs)
		})
	}
}
