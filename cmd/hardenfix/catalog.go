package main

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/hardenfix/hardenfix/pkg/harden"
	"github.com/hardenfix/hardenfix/pkg/registry"
)

// catalogFlags are the flags of the catalog and of the rules that consult it.
func catalogFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "catalog", Usage: "merge the catalog `FILE` over the embedded one (see docs/catalog.md)"},
		optionFlag("update-digests"),
	}
}

// loadCatalog is harden.LoadCatalog with its errors naming the flag.
func loadCatalog(file string) (*registry.Catalog, error) {
	c, err := harden.LoadCatalog(file)
	if err != nil {
		return nil, fmt.Errorf("--%w", err)
	}
	return c, nil
}

// catalogCommand prints the effective catalog as YAML.
func catalogCommand(stdout io.Writer) *cli.Command {
	return &cli.Command{
		Name:  "catalog",
		Usage: "print the effective catalog (the embedded one merged with --catalog FILE)",
		Flags: []cli.Flag{&cli.StringFlag{Name: "catalog", Usage: "merge the catalog `FILE` over the embedded one"}},
		Action: func(c *cli.Context) error {
			file := c.String("catalog")
			if lineage := c.Lineage(); file == "" && len(lineage) > 1 {
				file = lineage[1].String("catalog") // hardenfix --catalog FILE catalog
			}
			cat, err := loadCatalog(file)
			if err != nil {
				return cli.Exit(err.Error(), exitError)
			}
			return cat.Encode(stdout)
		},
	}
}
