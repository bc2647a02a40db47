module github.com/kmsmodel/kmsmodel

go 1.26

require github.com/looplab/fsm v1.0.3

require pgregory.net/rapid v1.3.0 // indirect
