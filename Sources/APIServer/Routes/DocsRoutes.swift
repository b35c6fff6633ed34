import Hummingbird

extension APIHandlers {
    /// `/openapi.json`, `/docs` (Swagger UI, vendored) and the built-in UI at `/` and `/ui/*`.
    func addDocsRoutes(to router: Router<APIRequestContext>) {
        let openAPI = OpenAPIDocument.json()
        router.get("openapi.json") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: openAPI)))
        }
        router.get("docs") { _, _ -> Response in
            let page = assets.hasSwaggerUI ? StaticAssets.swaggerPage : StaticAssets.fallbackDocsPage
            return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: page)))
        }
        router.get("docs/:file") { _, context -> Response in
            let name = try pathParameter(context, "file")
            guard let file = assets.docs[name] else { throw APIError.notFound("no documentation asset \"\(name)\"") }
            return file.response()
        }
        router.get("/") { _, _ -> Response in
            guard let index = assets.ui["index.html"] else { throw APIError.notFound("the built-in UI is not bundled") }
            return index.response()
        }
        router.get("ui/**") { request, _ -> Response in
            let path = String(request.uri.path.dropFirst("/ui/".count))
            guard let file = assets.ui[path.isEmpty ? "index.html" : path] else { throw APIError.notFound("no UI asset \"\(path)\"") }
            return file.response()
        }
    }
}
