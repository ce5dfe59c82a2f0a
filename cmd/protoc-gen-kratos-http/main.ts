#!/usr/bin/env node
// protoc-gen-kratos-http: run by buf (or protoc) with a CodeGeneratorRequest on stdin.
import { runNodeJs } from "@bufbuild/protoplugin";
import { protocGenKratosHttp } from "./plugin.js";

runNodeJs(protocGenKratosHttp);
