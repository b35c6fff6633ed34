import Hummingbird
import TSDB

extension APIHandlers {
    /// `GET /gpus`, `/gpus/{uuid}`, `/hosts`, `/hosts/{hostname}/gpus`, `/namespaces`, `/metrics`.
    func addInventoryRoutes(to v1: RouterGroup<APIRequestContext>) {
        v1.get("gpus") { request, _ -> Response in
            let q = try QueryParameters(request.uri)
            let page = try pageRequest(q)
            let gpus = db.gpuPage(after: page.after, limit: page.limit, hostname: q.string("hostname"),
                                  namespace: q.string("namespace"), model: q.string("model"))
            return listResponse(gpus, key: \.uuid, field: "gpus", writeItem: writeGPU)
        }
        v1.get("gpus/:uuid") { _, context -> Response in
            let uuid = try pathParameter(context, "uuid")
            guard let gpu = db.gpu(uuid: uuid) else { throw APIError.notFound("no GPU with uuid \"\(uuid)\"") }
            var w = JSONWriter()
            writeGPU(&w, gpu)
            return w.response()
        }
        v1.get("hosts") { request, _ -> Response in
            let page = try pageRequest(try QueryParameters(request.uri))
            return listResponse(db.hostPage(after: page.after, limit: page.limit), key: \.hostname, field: "hosts") { w, h in
                writeCounts(&w, "hostname", h.hostname, gpus: h.gpuCount, series: h.seriesCount)
            }
        }
        v1.get("hosts/:hostname/gpus") { request, context -> Response in
            let hostname = try pathParameter(context, "hostname")
            let page = try pageRequest(try QueryParameters(request.uri))
            guard db.host(named: hostname) != nil else {
                throw APIError.notFound("no host named \"\(hostname)\"")
            }
            let gpus = db.gpuPage(after: page.after, limit: page.limit, hostname: hostname)
            return listResponse(gpus, key: \.uuid, field: "gpus", extra: { w in
                w.key("hostname"); w.string(hostname)
            }, writeItem: writeGPU)
        }
        v1.get("namespaces") { request, _ -> Response in
            let page = try pageRequest(try QueryParameters(request.uri))
            return listResponse(db.namespacePage(after: page.after, limit: page.limit), key: \.namespace, field: "namespaces") { w, n in
                writeCounts(&w, "namespace", n.namespace, gpus: n.gpuCount, series: n.seriesCount)
            }
        }
        v1.get("metrics") { request, _ -> Response in
            let page = try pageRequest(try QueryParameters(request.uri))
            return listResponse(items: db.metrics(), key: \.name, page: page, field: "metrics") { w, m in
                w.beginObject()
                w.key("name"); w.string(m.name)
                w.key("series_count"); w.int(m.seriesCount)
                w.endObject()
            }
        }
    }

    struct PageRequest {
        var limit: Int
        var after: String?
    }

    func pageRequest(_ q: QueryParameters) throws(APIError) -> PageRequest {
        let limit = try q.int("limit", default: config.defaultListLimit, range: 1...config.maxListLimit)
        let after = try q.string("cursor").flatMap { c throws(APIError) in c.isEmpty ? nil : try Cursor.decode(c) }
        return PageRequest(limit: limit, after: after)
    }

    /// `{"count", "total", <field>: [...], "next_cursor"}` for a page the engine cut (sorted
    /// by `key`, after the cursor); `next_cursor` is null on the last page.
    func listResponse<T>(
        _ page: InventoryPage<T>, key: (T) -> String, field: String,
        extra: (inout JSONWriter) -> Void = { _ in },
        writeItem: (inout JSONWriter, T) -> Void
    ) -> Response {
        var w = JSONWriter(capacity: 256 * page.items.count + 128)
        w.beginObject()
        extra(&w)
        w.key("count"); w.int(page.items.count)
        w.key("total"); w.int(page.total)
        w.key(field)
        w.beginArray()
        for item in page.items { writeItem(&w, item) }
        w.endArray()
        w.key("next_cursor")
        if page.hasMore, let last = page.items.last { w.string(Cursor.encode(key(last))) } else { w.null() }
        w.endObject()
        return w.response()
    }

    /// `{"count", "total", <field>: [...], "next_cursor"}`: items sorted by `key`, the page
    /// after the cursor's key; `next_cursor` is null on the last page.
    func listResponse<T>(
        items: [T], key: (T) -> String, page: PageRequest, field: String,
        extra: (inout JSONWriter) -> Void = { _ in },
        writeItem: (inout JSONWriter, T) -> Void
    ) -> Response {
        let sorted = items.sorted { key($0) < key($1) }
        let startIndex = page.after.map { after in sorted.firstIndex { key($0) > after } ?? sorted.count } ?? 0
        let endIndex = min(sorted.count, startIndex + page.limit)
        var w = JSONWriter(capacity: 256 * (endIndex - startIndex) + 128)
        w.beginObject()
        extra(&w)
        w.key("count"); w.int(endIndex - startIndex)
        w.key("total"); w.int(sorted.count)
        w.key(field)
        w.beginArray()
        for item in sorted[startIndex..<endIndex] { writeItem(&w, item) }
        w.endArray()
        w.key("next_cursor")
        if endIndex < sorted.count, endIndex > startIndex { w.string(Cursor.encode(key(sorted[endIndex - 1]))) } else { w.null() }
        w.endObject()
        return w.response()
    }
}

/// `{"<key>": name, "gpu_count": …, "series_count": …}`: one host or namespace of a list.
func writeCounts(_ w: inout JSONWriter, _ key: String, _ name: String, gpus: Int, series: Int) {
    w.beginObject()
    w.key(key); w.string(name)
    w.key("gpu_count"); w.int(gpus)
    w.key("series_count"); w.int(series)
    w.endObject()
}

func writeGPU(_ w: inout JSONWriter, _ g: GPUInfo) {
    w.beginObject()
    w.key("uuid"); w.string(g.uuid)
    w.key("gpu_id"); w.stringOrNull(g.gpuIndex)
    w.key("device"); w.stringOrNull(g.device)
    w.key("model_name"); w.stringOrNull(g.model)
    w.key("hostname"); w.stringOrNull(g.hostname)
    w.key("namespaces"); w.beginArray(); for n in g.namespaces { w.string(n) }; w.endArray()
    w.key("pods"); w.beginArray(); for p in g.pods { w.string(p) }; w.endArray()
    w.key("mig_instances"); w.beginArray()
    for m in g.migInstances {
        w.beginObject()
        w.key("gpu_instance_id"); w.string(m.id)
        w.key("profile"); w.stringOrNull(m.profile)
        w.endObject()
    }
    w.endArray()
    w.key("first_seen"); w.timestampOrNull(g.firstSeen)
    w.key("last_seen"); w.timestampOrNull(g.lastSeen)
    w.key("series_count"); w.int(g.seriesCount)
    w.endObject()
}
