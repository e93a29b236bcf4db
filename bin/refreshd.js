#!/usr/bin/env node
// The `refreshd` command: runs the compiled CLI (built by `npm ci` / `npm run build`).
import '../dist/cli/main.js';
