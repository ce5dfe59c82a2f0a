#!/usr/bin/env node
// protoc-gen-kratos-errors: run by buf (or protoc) with a CodeGeneratorRequest on stdin.
import { runNodeJs } from "@bufbuild/protoplugin";
import { protocGenKratosErrors } from "./plugin.js";

runNodeJs(protocGenKratosErrors);
