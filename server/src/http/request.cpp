#include "http/request.hpp"

#include <algorithm>

namespace server::http {

namespace {

char Lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

template <typename Map>
std::string NthValue(const Map& map, const std::string& key, std::size_t id) {
    auto [first, last] = map.equal_range(key);
    for (auto it = first; it != last; ++it, id = id == 0 ? 0 : id - 1) {
        if (id == 0) {
            return it->second;
        }
    }
    return {};
}

}  // namespace

bool HeaderNameLess::operator()(const std::string& a, const std::string& b) const {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                        [](char x, char y) { return Lower(x) < Lower(y); });
}

bool Request::has_header(const std::string& name) const {
    return headers.count(name) != 0;
}

std::string Request::get_header_value(const std::string& name, std::size_t id) const {
    return NthValue(headers, name, id);
}

bool Request::has_param(const std::string& key) const {
    return params.count(key) != 0;
}

std::string Request::get_param_value(const std::string& key, std::size_t id) const {
    return NthValue(params, key, id);
}

void Response::set_header(const std::string& name, const std::string& value) {
    headers.erase(name);
    headers.emplace(name, value);
}

bool Response::has_header(const std::string& name) const {
    return headers.count(name) != 0;
}

std::string Response::get_header_value(const std::string& name) const {
    return NthValue(headers, name, 0);
}

void Response::set_content(std::string content, const std::string& content_type) {
    body = std::move(content);
    set_header("Content-Type", content_type);
}

}  // namespace server::http
