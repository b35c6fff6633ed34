import HTTPTypes
import Hummingbird
import TSDB

extension APIHandlers {
    /// The keys of a GPU object, in the order they are written (`fields` names them).
    static let gpuFields = ["uuid", "gpu_id", "device", "model_name", "hostname", "namespaces", "pods", "mig_instances",
                            "first_seen", "last_seen", "series_count"]
    static let hostFields = ["hostname", "gpu_count", "series_count"]

    /// `GET /gpus`, `/gpus/{uuid}`, `/hosts`, `/hosts/{hostname}/gpus`, `/namespaces`, `/metrics`.
    func addInventoryRoutes(to v1: RouterGroup<APIRequestContext>) {
        v1.get("gpus") { request, _ -> Response in
            let q = try QueryParameters(request.uri)
            let page = try pageRequest(q)
            let fields = try FieldSelection(q, names: Self.gpuFields)
            if fields.isOnly(0), q.string("hostname") == nil, q.string("namespace") == nil, q.string("model") == nil {
                // Names only: no record is copied (16,000 records cost ~9 retains each, twice).
                return listResponse(db.gpuUUIDPage(after: page.after, limit: page.limit), key: { $0 }, field: "gpus") { w, uuid in
                    w.beginObject(); w.key("uuid"); w.string(uuid); w.endObject()
                }
            }
            let gpus = db.gpuPage(after: page.after, limit: page.limit, hostname: q.string("hostname"),
                                  namespace: q.string("namespace"), model: q.string("model"), seen: Self.needsSeen(fields))
            return listResponse(gpus, key: \.uuid, field: "gpus") { w, g in writeGPU(&w, g, fields) }
        }
        v1.get("gpus/:uuid") { _, context -> Response in
            let uuid = try pathParameter(context, "uuid")
            guard let gpu = db.gpu(uuid: uuid) else { throw APIError.notFound("no GPU with uuid \"\(uuid)\"") }
            var w = JSONWriter()
            writeGPU(&w, gpu, .all(Self.gpuFields))
            return w.response()
        }
        v1.get("hosts") { request, _ -> Response in
            let q = try QueryParameters(request.uri)
            let page = try pageRequest(q)
            let fields = try FieldSelection(q, names: Self.hostFields)
            return listResponse(db.hostPage(after: page.after, limit: page.limit), key: \.hostname, field: "hosts") { w, h in
                writeCounts(&w, "hostname", h.hostname, gpus: h.gpuCount, series: h.seriesCount, fields)
            }
        }
        v1.get("hosts/:hostname/gpus") { request, context -> Response in
            let hostname = try pathParameter(context, "hostname")
            let q = try QueryParameters(request.uri)
            let page = try pageRequest(q)
            let fields = try FieldSelection(q, names: Self.gpuFields)
            guard db.host(named: hostname) != nil else {
                throw APIError.notFound("no host named \"\(hostname)\"")
            }
            let gpus = db.gpuPage(after: page.after, limit: page.limit, hostname: hostname, seen: Self.needsSeen(fields))
            return listResponse(gpus, key: \.uuid, field: "gpus", extra: { w in
                w.key("hostname"); w.string(hostname)
            }, writeItem: { w, g in writeGPU(&w, g, fields) })
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

    /// First and last seen are read per GPU from its series' bounds: only when asked for.
    static func needsSeen(_ fields: FieldSelection) -> Bool { fields.has(8) || fields.has(9) }

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
        let next = page.hasMore ? page.items.last.map { Cursor.encode(key($0)) } : nil
        return listBody(page.items[...], total: page.total, next: next, field: field, extra: extra, writeItem: writeItem)
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
        let next = endIndex < sorted.count && endIndex > startIndex ? Cursor.encode(key(sorted[endIndex - 1])) : nil
        return listBody(sorted[startIndex..<endIndex], total: sorted.count, next: next, field: field, extra: extra, writeItem: writeItem)
    }

    /// The page document, with `next_cursor` also in the `X-Next-Cursor` header (absent on the
    /// last page), so a client can follow the pages without parsing each body.
    private func listBody<T>(
        _ items: ArraySlice<T>, total: Int, next: String?, field: String,
        extra: (inout JSONWriter) -> Void, writeItem: (inout JSONWriter, T) -> Void
    ) -> Response {
        var w = JSONWriter(capacity: 256 * items.count + 128)
        w.beginObject()
        extra(&w)
        w.key("count"); w.int(items.count)
        w.key("total"); w.int(total)
        w.key(field)
        w.beginArray()
        for item in items { writeItem(&w, item) }
        w.endArray()
        w.key("next_cursor"); w.stringOrNull(next)
        w.endObject()
        var headers = HTTPFields()
        if let next { headers[Self.nextCursorHeader] = next }
        return w.response(headers: headers)
    }

    static let nextCursorHeader = HTTPField.Name("X-Next-Cursor")!
}

/// `{"<key>": name, "gpu_count": …, "series_count": …}`: one host or namespace of a list,
/// with the keys `fields` selects (``APIHandlers/hostFields`` order).
func writeCounts(_ w: inout JSONWriter, _ key: String, _ name: String, gpus: Int, series: Int,
                 _ fields: FieldSelection = .all(APIHandlers.hostFields)) {
    w.beginObject()
    if fields.has(0) { w.key(key); w.string(name) }
    if fields.has(1) { w.key("gpu_count"); w.int(gpus) }
    if fields.has(2) { w.key("series_count"); w.int(series) }
    w.endObject()
}

/// A GPU object with the keys `fields` selects (``APIHandlers/gpuFields`` order).
func writeGPU(_ w: inout JSONWriter, _ g: GPUInfo, _ fields: FieldSelection) {
    w.beginObject()
    if fields.has(0) { w.key("uuid"); w.string(g.uuid) }
    if fields.has(1) { w.key("gpu_id"); w.stringOrNull(g.gpuIndex) }
    if fields.has(2) { w.key("device"); w.stringOrNull(g.device) }
    if fields.has(3) { w.key("model_name"); w.stringOrNull(g.model) }
    if fields.has(4) { w.key("hostname"); w.stringOrNull(g.hostname) }
    if fields.has(5) { w.key("namespaces"); w.beginArray(); for n in g.namespaces { w.string(n) }; w.endArray() }
    if fields.has(6) { w.key("pods"); w.beginArray(); for p in g.pods { w.string(p) }; w.endArray() }
    if fields.has(7) {
        w.key("mig_instances"); w.beginArray()
        for m in g.migInstances {
            w.beginObject()
            w.key("gpu_instance_id"); w.string(m.id)
            w.key("profile"); w.stringOrNull(m.profile)
            w.endObject()
        }
        w.endArray()
    }
    if fields.has(8) { w.key("first_seen"); w.timestampOrNull(g.firstSeen) }
    if fields.has(9) { w.key("last_seen"); w.timestampOrNull(g.lastSeen) }
    if fields.has(10) { w.key("series_count"); w.int(g.seriesCount) }
    w.endObject()
}
