// `proto server` serves a new service by one entry in the app's service list: its imports after
// the last import, the entry above the marker, names that are taken aliased, nothing twice.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { addToServiceList } from "../../cmd/kratos-ts/service-list.js";
import type { ListedService } from "../../cmd/kratos-ts/service-list.js";

const list = `// The services.
import { registerGreeterHTTPServer } from "../../api/helloworld/v1/greeter_http.js";
import {
  Greeter,
} from "../../api/helloworld/v1/greeter_pb.js";
import { GreeterService } from "./greeter.js";
import { serve } from "./serve.js";

export const services = [
  serve(Greeter, GreeterService, registerGreeterHTTPServer),
  // kratos-ts proto server adds services above this line.
];
`;

const book: ListedService = {
  descriptor: "Book",
  pbModule: "../../api/shop/v1/book_pb.js",
  impl: "BookService",
  implModule: "./book.js",
  httpRegister: "registerBookHTTPServer",
  httpModule: "../../api/shop/v1/book_http.js",
  aliasPrefix: "ShopV1",
};

describe("addToServiceList", () => {
  it("adds the imports after the last import and the entry above the marker", () => {
    const added = addToServiceList(list, book);
    assert.ok("text" in added);
    assert.equal(
      added.text,
      list
        .replace(
          'import { serve } from "./serve.js";\n',
          'import { serve } from "./serve.js";\n' +
            'import { Book } from "../../api/shop/v1/book_pb.js";\n' +
            'import { BookService } from "./book.js";\n' +
            'import { registerBookHTTPServer } from "../../api/shop/v1/book_http.js";\n',
        )
        .replace(
          "  // kratos-ts",
          "  serve(Book, BookService, registerBookHTTPServer),\n  // kratos-ts",
        ),
    );
    assert.deepEqual(addToServiceList(added.text, book), {
      skipped: "it already lists BookService",
    });
  });

  it("aliases names already taken and leaves out HTTP for a service without routes", () => {
    const added = addToServiceList(list, {
      ...book,
      descriptor: "Greeter",
      impl: "GreeterService",
      implModule: "./library-greeter.js",
      httpRegister: undefined,
      aliasPrefix: "LibraryV1",
    });
    assert.ok("text" in added);
    assert.match(added.text, /import \{ Greeter as LibraryV1Greeter \} from/);
    assert.match(added.text, /import \{ GreeterService as LibraryV1GreeterService \} from/);
    assert.match(added.text, /\n {2}serve\(LibraryV1Greeter, LibraryV1GreeterService\),\n/);
  });

  it("does not touch a list without the marker", () => {
    assert.deepEqual(addToServiceList("export const services = [];\n", book), {
      skipped: 'it has no line "// kratos-ts proto server adds services above this line"',
    });
  });
});
