#!/usr/bin/env node
// protoc-gen-kratos-openapi: run by buf (or protoc) with a CodeGeneratorRequest on stdin.
import { runNodeJs } from "@bufbuild/protoplugin";
import { protocGenKratosOpenapi } from "./plugin.js";

runNodeJs(protocGenKratosOpenapi);
