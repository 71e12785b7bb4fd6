#!/usr/bin/env node
// Thin launcher so the bin link exists before the first build; the CLI lives in dist/.
import { main } from '../dist/cli.js';

await main(process.argv.slice(2));
