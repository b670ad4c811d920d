// Command kw-node is the test cluster's node agent: it registers a Node and runs the pods bound to
// it as local processes.
package main

import (
	"os"

	"kube-worker/test/cluster/node"
)

func main() { os.Exit(node.Main(os.Args[1:])) }
