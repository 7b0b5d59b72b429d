package server

import "bytes"

type bytesBuffer = bytes.Buffer
