package manifest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/deps"
)

type detail struct {
	Hashes    []string
	DependsOn []string
}

// TestLockDetails: digests and the resolved dependency graph from every lock
// format with details, matched onto the packages by name and version. The
// fixtures under testdata are realistic in shape; their digests are made up
// but well formed.
func TestLockDetails(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, path string
		file       string // under testdata, or else content
		content    string
		want       map[string]detail // by purl
	}{
		{name: "package-lock.json", path: "package-lock.json", content: `{"lockfileVersion": 3, "packages": {
			"": {"name": "app", "dependencies": {"a": "^1", "b": "^1"}},
			"node_modules/a": {"version": "1.0.0", "integrity": "sha512-AA== sha1-BB", "dependencies": {"c": "^2"}},
			"node_modules/a/node_modules/c": {"version": "2.0.0", "integrity": "sha512-CC"},
			"node_modules/b": {"version": "1.1.0", "dependencies": {"c": "^1", "missing": "*"}, "optionalDependencies": {"a": "*"}},
			"node_modules/c": {"version": "1.5.0"},
			"node_modules/linked": {"link": true, "resolved": "packages/linked"}}}`,
			want: map[string]detail{
				"pkg:npm/a@1.0.0": {Hashes: []string{"sha512-AA==", "sha1-BB"}, DependsOn: []string{"pkg:npm/c@2.0.0"}},
				"pkg:npm/b@1.1.0": {DependsOn: []string{"pkg:npm/a@1.0.0", "pkg:npm/c@1.5.0"}},
				"pkg:npm/c@1.5.0": {},
				"pkg:npm/c@2.0.0": {Hashes: []string{"sha512-CC"}},
			}},
		{name: "poetry.lock", path: "poetry.lock", content: `
[[package]]
name = "requests"
version = "2.32.3"
files = [{file = "requests-2.32.3-py3-none-any.whl", hash = "sha256:aa"}, {file = "requests-2.32.3.tar.gz", hash = "sha256:bb"}]
[package.dependencies]
urllib3 = ">=1.21.1,<3"
Charset_Normalizer = ">=2,<4"

[[package]]
name = "urllib3"
version = "2.2.3"
files = [{file = "urllib3-2.2.3-py3-none-any.whl", hash = "sha256:cc"}]

[[package]]
name = "charset-normalizer"
version = "3.4.0"
files = []
`, want: map[string]detail{
			"pkg:pypi/requests@2.32.3":          {Hashes: []string{"sha256:aa", "sha256:bb"}, DependsOn: []string{"pkg:pypi/charset-normalizer@3.4.0", "pkg:pypi/urllib3@2.2.3"}},
			"pkg:pypi/urllib3@2.2.3":            {Hashes: []string{"sha256:cc"}},
			"pkg:pypi/charset-normalizer@3.4.0": {},
		}},
		{name: "uv.lock", path: "uv.lock", content: `version = 1
requires-python = ">=3.11"

[[package]]
name = "torch"
version = "2.5.1"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "filelock" }, { name = "sympy", marker = "python_full_version >= '3.12'" }]
wheels = [{ url = "https://x/torch.whl", hash = "sha256:11", size = 1 }]

[[package]]
name = "filelock"
version = "3.16.1"
source = { registry = "https://pypi.org/simple" }
sdist = { url = "https://x/filelock.tar.gz", hash = "sha256:22", size = 1 }

[[package]]
name = "sympy"
version = "1.13.1"
source = { registry = "https://pypi.org/simple" }
`, want: map[string]detail{
			"pkg:pypi/torch@2.5.1":     {Hashes: []string{"sha256:11"}, DependsOn: []string{"pkg:pypi/filelock@3.16.1", "pkg:pypi/sympy@1.13.1"}},
			"pkg:pypi/filelock@3.16.1": {Hashes: []string{"sha256:22"}},
			"pkg:pypi/sympy@1.13.1":    {},
		}},
		{name: "uv.lock two versions without markers", path: "uv.lock", content: `version = 1
requires-python = ">=3.9"

[[package]]
name = "app"
version = "0.1.0"
source = { editable = "." }
dependencies = [{ name = "attrs" }]

[[package]]
name = "attrs"
version = "23.2.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "attrs"
version = "24.2.0"
source = { registry = "https://pypi.org/simple" }
`, want: map[string]detail{ // not the first version: no edge
			"pkg:pypi/app@0.1.0":    {},
			"pkg:pypi/attrs@23.2.0": {},
			"pkg:pypi/attrs@24.2.0": {},
		}},
		{name: "Pipfile.lock.details", path: "Pipfile.lock", file: "Pipfile.lock.details", want: map[string]detail{
			// No graph; a VCS entry has no version.
			"pkg:pypi/certifi@2024.8.30": {Hashes: []string{"sha256:8f8e0cf064f1969db8cd0f729459bb3f86550f138a825338ccfbb197cc94de36", "sha256:efe65d8eca56634dc9efa08547a73c53ced6ab0ee2d02c07244eee2bade7c147"}},
			"pkg:pypi/pytest@8.3.3":      {Hashes: []string{"sha256:3a10f9b0d76b6151ac951a4130d4312889f131f3c7d8a0c59717c7df77420cd5"}},
			"pkg:pypi/requests@2.32.3":   {Hashes: []string{"sha256:bd0c80ddb748e530fc1c4dec6b66909a820f246d37f72b3461438ce1fcd8a30a", "sha256:d3661b32ef71c53e839964f1652bec8ac7b30a882a656a9e5055bbd4043b48f1"}},
		}},
		{name: "pdm.lock.details", path: "pdm.lock", file: "pdm.lock.details", want: map[string]detail{
			// requests[socks] repeats requests 2.32.3 and requires it: merged, no self edge;
			// requirements with markers and extras still name their package.
			"pkg:pypi/certifi@2024.8.30": {Hashes: []string{"sha256:8f8e0cf064f1969db8cd0f729459bb3f86550f138a825338ccfbb197cc94de36", "sha256:efe65d8eca56634dc9efa08547a73c53ced6ab0ee2d02c07244eee2bade7c147"}},
			"pkg:pypi/colorama@0.4.6":    {Hashes: []string{"sha256:292d9104c3b56c179f4ef7da15ace71415913cca824b1c8cbd108adba63ee200"}},
			"pkg:pypi/pysocks@1.7.1":     {Hashes: []string{"sha256:f922ba8013b8c978a2bee1d933be1dba12f0e60646e2ff8664ee59cceb4c8b35"}},
			"pkg:pypi/requests@2.32.3":   {Hashes: []string{"sha256:bd0c80ddb748e530fc1c4dec6b66909a820f246d37f72b3461438ce1fcd8a30a"}, DependsOn: []string{"pkg:pypi/certifi@2024.8.30", "pkg:pypi/pysocks@1.7.1", "pkg:pypi/urllib3@2.2.3"}},
			"pkg:pypi/tqdm@4.66.5":       {Hashes: []string{"sha256:d5219207a92bf947bdf184ddd0c5479364d18c4b88f95f9adaf836abbc30ed10"}, DependsOn: []string{"pkg:pypi/colorama@0.4.6"}},
			"pkg:pypi/urllib3@2.2.3":     {Hashes: []string{"sha256:9e68f9ecb9c2044d8ad6550fc27fbb09b2198e8669ef519d30c8bec578436d67", "sha256:ca2b1bc8f016a5fcec90e8f342842fed1b9894edaf2ec1e006234d16bbd8d743"}},
		}},
		{name: "poetry.lock.markers", path: "poetry.lock", file: "poetry.lock.markers", want: map[string]detail{
			// Two numpy entries, both under markers: scipy's edge is left out;
			// typing-extensions resolves to the one entry without markers.
			"pkg:pypi/annotated-types@0.7.0":    {Hashes: []string{"sha256:d430d475461968f8381d41df31c9fbeb4b0d5ec71f0d89d6f89dac74d0fa2fd4", "sha256:8294499fe67ce18ca0b9cc5c20954a8609ce859a064e00f031bfacd2723ab666"}},
			"pkg:pypi/numpy@1.26.4":             {Hashes: []string{"sha256:b4494b862287b742cf4629244edafbe34713cffdf0c373e1301196e405f77445"}},
			"pkg:pypi/numpy@2.1.3":              {Hashes: []string{"sha256:a0f9e9811a7705b3d4f6e4b876026b002989b65da1236e3172e6c2b33886c571"}},
			"pkg:pypi/pydantic@2.9.2":           {Hashes: []string{"sha256:fe11d0cf2c85c3e4660e3f6ac70cc98a27c76c0a5de6bb875a13ea473081ff24"}, DependsOn: []string{"pkg:pypi/annotated-types@0.7.0", "pkg:pypi/typing-extensions@4.12.2"}},
			"pkg:pypi/scipy@1.14.1":             {Hashes: []string{"sha256:b47ad772a5ba2aed556344ec9ae45d3b3c3bf3e49339cf38951f65ffc0c9b9b2"}},
			"pkg:pypi/typing-extensions@4.12.2": {Hashes: []string{"sha256:47b93ca5225691562a8322911e3373c5cd24fdc26ca5ea17a4d915a3e9063247"}},
			"pkg:pypi/typing-extensions@4.7.1":  {Hashes: []string{"sha256:cb6a2fad483d63f8a0fe9a339fd4c7b10acd67e8f25056619dc2fb749f7acaa8"}},
		}},
		{name: "poetry.lock.v1", path: "poetry.lock", file: "poetry.lock.v1", want: map[string]detail{
			// Lock format 1.1: hashes in [metadata.files], by name.
			"pkg:pypi/certifi@2022.9.24": {Hashes: []string{"sha256:09779b62a36a4b81491900822003b5bcc60fefeb82acf6cbe86917013e4990e8", "sha256:890dee9ab537303f84999d3088b678e987d28023e55c70c6632dbd1067da1c8c"}},
			"pkg:pypi/requests@2.28.1":   {Hashes: []string{"sha256:9b1da2811b3c1050ce1b835e5768ea4216debc950dcb7f3c5a06e835fa0e6fbe"}, DependsOn: []string{"pkg:pypi/certifi@2022.9.24"}},
		}},
		{name: "uv.lock.forks", path: "uv.lock", file: "uv.lock.forks", want: map[string]detail{
			// A fork: numpy 2.0.2 and 2.2.6 under resolution-markers, named by version in
			// dependencies; tzdata is not locked. The virtual root is not reported.
			"pkg:pypi/numpy@2.0.2":                 {Hashes: []string{"sha256:80cd946c3b142fe7c5b92d870109058fc5081f6e6e19a34d9fdbd6e9bbe7c113", "sha256:ec30f71b8c7f5ae1f68b5d7e5841c522ba074bc0b8fba68dd777cbe18b0e6cc7"}},
			"pkg:pypi/numpy@2.2.6":                 {Hashes: []string{"sha256:d09a18ff73f400e236026b30a148cd7ba60e69fc286d2331ba14cb53dfa3e4b3"}},
			"pkg:pypi/pandas@2.2.3":                {Hashes: []string{"sha256:510fc16682ba81c4fa44287f51f05fa71b5a685d1c46b0f57794d9ddd1cd2594"}, DependsOn: []string{"pkg:pypi/numpy@2.0.2", "pkg:pypi/numpy@2.2.6", "pkg:pypi/python-dateutil@2.9.0.post0"}},
			"pkg:pypi/python-dateutil@2.9.0.post0": {Hashes: []string{"sha256:b3e6aec9973853d31d12615d066c8425debef176bc95e8d5decc7cab65a13671"}, DependsOn: []string{"pkg:pypi/six@1.17.0"}},
			"pkg:pypi/six@1.17.0":                  {Hashes: []string{"sha256:c2730c816acbc0dcf6dfc3824f3af0a90298c916d0c7f22786914e995fdd09ad"}},
		}},
		{name: "pylock.toml.details", path: "pylock.toml", file: "pylock.toml.details", want: map[string]detail{
			// PEP 751: hashes by algorithm, sorted; numpy twice under markers, named by
			// version from pandas and left out from peft; peft has no version.
			"pkg:pypi/jinja2@3.1.4":     {Hashes: []string{"sha256:afe668a974d87b83f8338813ca2c9dd33aeb1dad38150457882f482c7bc5fa64"}, DependsOn: []string{"pkg:pypi/markupsafe@3.0.2"}},
			"pkg:pypi/markupsafe@3.0.2": {Hashes: []string{"blake2b:b0576decc1bb9e906c0d9177d6c55f056cf93ce7c61218ec137cf64f45d438c5", "sha256:6b8be422d946624ef750743dbdeefff9e2f995fde5bec0af003677cc20a76abe", "sha256:c51caee6503d70e95ea281e13441287f86e213f416bfca88596c7db3f0644b49"}},
			"pkg:pypi/numpy@2.0.2":      {Hashes: []string{"sha256:80cd946c3b142fe7c5b92d870109058fc5081f6e6e19a34d9fdbd6e9bbe7c113"}},
			"pkg:pypi/numpy@2.2.6":      {Hashes: []string{"sha256:1321170919ac41ebd40e0191cdea41f75433de0baf83aa0f3fc06fedc29beba4"}},
			"pkg:pypi/pandas@2.2.3":     {Hashes: []string{"sha256:510fc16682ba81c4fa44287f51f05fa71b5a685d1c46b0f57794d9ddd1cd2594"}, DependsOn: []string{"pkg:pypi/numpy@2.0.2", "pkg:pypi/numpy@2.2.6"}},
			"pkg:pypi/peft":             {},
			"pkg:pypi/trainer@0.3.0":    {Hashes: []string{"sha256:61cec06d97bfe9faadbc594e0c793b3676412a9761a0c465c36e29c0bf007f81"}, DependsOn: []string{"pkg:pypi/jinja2@3.1.4", "pkg:pypi/peft"}},
		}},
		{name: "Cargo.lock.v4", path: "Cargo.lock", file: "Cargo.lock.v4", want: map[string]detail{
			// Two versions of rand, rand_core and getrandom: "name version" picks one;
			// the bare "rand_core" of the git crate tokenizers names two and is left out.
			"pkg:cargo/cfg-if@1.0.0":      {Hashes: []string{"sha256:ab014af15a1d456c0098630aa57c51cd980591f4d72a30c84d6657509880b3b5"}},
			"pkg:cargo/getrandom@0.1.16":  {Hashes: []string{"sha256:be2f389236927f558d3cdeee3f8c1a2641e1986221deee470c0ddf92dca6db09"}, DependsOn: []string{"pkg:cargo/cfg-if@1.0.0", "pkg:cargo/libc@0.2.159"}},
			"pkg:cargo/getrandom@0.2.15":  {Hashes: []string{"sha256:30f78a7242e404f6a2f0d5418c3f7c24edd2b2d7ede35236701b000ee46d303b"}, DependsOn: []string{"pkg:cargo/cfg-if@1.0.0", "pkg:cargo/libc@0.2.159"}},
			"pkg:cargo/libc@0.2.159":      {Hashes: []string{"sha256:302909232f5be77379d56fdf2fdf549d65ce2e380f0899c51f1c5df3abaa2058"}},
			"pkg:cargo/ml-service@0.1.0":  {DependsOn: []string{"pkg:cargo/rand@0.7.3", "pkg:cargo/rand@0.8.5", "pkg:cargo/tokenizers@0.20.0"}},
			"pkg:cargo/rand@0.7.3":        {Hashes: []string{"sha256:0c9f2528f3a8a485a79bb36aaa710aa2cf12efac5d2d9d7f2ce9583b10e05f32"}, DependsOn: []string{"pkg:cargo/getrandom@0.1.16", "pkg:cargo/libc@0.2.159", "pkg:cargo/rand_core@0.5.1"}},
			"pkg:cargo/rand@0.8.5":        {Hashes: []string{"sha256:74ec1f4f29b15acb8402329f55baf40eb41e5e2e9abcf45e36106214cf49a9fd"}, DependsOn: []string{"pkg:cargo/libc@0.2.159", "pkg:cargo/rand_core@0.6.4"}},
			"pkg:cargo/rand_core@0.5.1":   {Hashes: []string{"sha256:2882e88ee18c35410f17d11347e71120db3fbf8831030aba27c323092d8cabe9"}, DependsOn: []string{"pkg:cargo/getrandom@0.1.16"}},
			"pkg:cargo/rand_core@0.6.4":   {Hashes: []string{"sha256:a70fe1ada047a4b89415aab6f5e0a241c06c2b6c4702260e76ed6e02cdfceb9e"}, DependsOn: []string{"pkg:cargo/getrandom@0.2.15"}},
			"pkg:cargo/tokenizers@0.20.0": {DependsOn: []string{"pkg:cargo/rand@0.8.5"}},
		}},
		{name: "Cargo.lock.v1", path: "Cargo.lock", file: "Cargo.lock.v1", want: map[string]detail{
			// Version 1: checksums in [metadata]; "<none>" is no digest.
			"pkg:cargo/itoa@0.4.8":        {Hashes: []string{"sha256:1bb29b943bb598cd56c307e065dc9c863c484f5254e8fa412e93f3de42c6599c"}},
			"pkg:cargo/serde@1.0.130":     {},
			"pkg:cargo/serde_json@1.0.68": {Hashes: []string{"sha256:329bc46b991e632350227f6370a57ba1d7a77953bc3d24867e1f24c54289e43b"}, DependsOn: []string{"pkg:cargo/itoa@0.4.8", "pkg:cargo/serde@1.0.130"}},
		}},
		{name: "yarn.lock.v1", path: "yarn.lock", file: "yarn.lock.v1", want: map[string]detail{
			// Aliases (string-width-cjs), optionalDependencies, a header listing two ranges.
			"pkg:npm/%40babel/code-frame@7.24.7": {Hashes: []string{"sha512-f6rlzwf0ry/JlceDGBWQUozp9UCQh49jH+6ozCozbgqWJjndq7G+PPn/7Zf0BkpcYcjeJcKnPLDnJbKYLLdgrg=="}, DependsOn: []string{"pkg:npm/%40babel/highlight@7.24.7", "pkg:npm/picocolors@1.1.0"}},
			"pkg:npm/%40babel/highlight@7.24.7":  {Hashes: []string{"sha512-BJqft6B8Fdnb/5PP9J9EFnedL3DySCGlnKZbA3A5NWoJs1MgOkhpHbGTBipBoFo/AhC3S/S8WRXY0Xz64NmrSA=="}, DependsOn: []string{"pkg:npm/chalk@2.4.2", "pkg:npm/js-tokens@4.0.0", "pkg:npm/picocolors@1.1.0"}},
			"pkg:npm/%40isaacs/cliui@8.0.2":      {Hashes: []string{"sha512-dQNUEp0WWIQKQZKcF7WrV3Se/W0UR2dmK6JVgahNdU5J7Ub4BSctqOmGekIuijcFlodi/9XWIys3MwHcchvc6w=="}, DependsOn: []string{"pkg:npm/string-width@4.2.3", "pkg:npm/string-width@5.1.2"}},
			"pkg:npm/chalk@2.4.2":                {Hashes: []string{"sha512-BBLFaKAbcaBw15zkgwuguWvYL5ZdbIsTavgXAyvFo7y0odWLrmz3cFlq2fJJHDf6QDm0tDNQzAeWOOiyOuD19A=="}},
			"pkg:npm/chokidar@3.6.0":             {Hashes: []string{"sha512-J7lvI1yL+iWjOKB67bDZpUPeDdUHIk1T8vwSF03/pxmTVB9ukSzemGN4YoPFaLuAOe5CMsGuzXIXccloNk2H6w=="}, DependsOn: []string{"pkg:npm/fsevents@2.3.3"}},
			"pkg:npm/fsevents@2.3.3":             {Hashes: []string{"sha512-ooO4QSxscGtRF5OrKsYxCmGrW7zqKYLLG8pkcSCM+hyToKaLqpfpelxLPd+cSUDhQAPRZkhhQIla2opyOj/PAA=="}},
			"pkg:npm/js-tokens@4.0.0":            {Hashes: []string{"sha512-hgvFIIZXEh0qKUvHJA9tb+6uMdEHBUTTBVdE5bnB0HXjEjOjXG0NsMmG74DF0EoiAWA+OCL55ZseKfL6rFqqEw=="}},
			"pkg:npm/loose-envify@1.4.0":         {Hashes: []string{"sha1-hPeNdZXNW2I/R+OumH3Kq0kEPl0="}, DependsOn: []string{"pkg:npm/js-tokens@4.0.0"}},
			"pkg:npm/picocolors@1.1.0":           {Hashes: []string{"sha512-pUWqrcePoaB3x59Wiu9fvLW0ZXx2iMxNhunYj9VH/eXDMKS0Zav8LWuQD5OT26By8VeBZvYsfM/vVvy7WusZCw=="}},
			"pkg:npm/string-width@4.2.3":         {Hashes: []string{"sha512-47EHUZ3FbpAJUZy1yzAQ8+cYr30ud/qYXBkZtu18LryniCKpraxPT1YWxqArsh9mZDjHOGoOKmyNXYosjyG0gA=="}},
			"pkg:npm/string-width@5.1.2":         {Hashes: []string{"sha512-HeoaG6L6LHWn3QJoVHuC63JGUb0Xlo/m2MO9h7V8Fe4twk3y2QrV9/70PTH/txaz5rgv4uMNLfJQA8EwhAZ/AQ=="}},
		}},
		{name: "yarn.lock.berry", path: "yarn.lock", file: "yarn.lock.berry", want: map[string]detail{
			// Berry: the checksum is of yarn's cache zip, so no hashes; only the graph.
			"pkg:npm/%40babel/code-frame@7.24.7": {DependsOn: []string{"pkg:npm/%40babel/highlight@7.24.7", "pkg:npm/picocolors@1.1.0"}},
			"pkg:npm/%40babel/highlight@7.24.7":  {DependsOn: []string{"pkg:npm/picocolors@1.1.0"}},
			"pkg:npm/%40isaacs/cliui@8.0.2":      {DependsOn: []string{"pkg:npm/string-width@4.2.3", "pkg:npm/string-width@5.1.2"}},
			"pkg:npm/chokidar@3.6.0":             {DependsOn: []string{"pkg:npm/fsevents@2.3.3"}},
			"pkg:npm/fsevents@2.3.3":             {},
			"pkg:npm/picocolors@1.1.0":           {},
			"pkg:npm/string-width@4.2.3":         {},
			"pkg:npm/string-width@5.1.2":         {},
		}},
		{name: "pnpm-lock.yaml.v6", path: "pnpm-lock.yaml", file: "pnpm-lock.yaml.v6", want: map[string]detail{
			// Keys "/name@version(peers)", an alias "/string-width@4.2.3".
			"pkg:npm/%40isaacs/cliui@8.0.2": {Hashes: []string{"sha512-dQNUEp0WWIQKQZKcF7WrV3Se/W0UR2dmK6JVgahNdU5J7Ub4BSctqOmGekIuijcFlodi/9XWIys3MwHcchvc6w=="}, DependsOn: []string{"pkg:npm/string-width@4.2.3", "pkg:npm/string-width@5.1.2"}},
			"pkg:npm/js-tokens@4.0.0":       {Hashes: []string{"sha512-hgvFIIZXEh0qKUvHJA9tb+6uMdEHBUTTBVdE5bnB0HXjEjOjXG0NsMmG74DF0EoiAWA+OCL55ZseKfL6rFqqEw=="}},
			"pkg:npm/loose-envify@1.4.0":    {Hashes: []string{"sha512-p6tV/43Z8c4seu03wSajLEoUgCE8tth0qwIk9TQuGL/l4A1cGuu5pJMkpTfGeg4X8Ex5aYGsz2uKe7iYEkGBGw=="}, DependsOn: []string{"pkg:npm/js-tokens@4.0.0"}},
			"pkg:npm/react@18.3.1":          {Hashes: []string{"sha512-2+1d312Gv/F0ka3L+WanxnvPQ93+m+j2HLOWk54rzWk/lAPxKcimaVSC+kRml1k+lqAEalcc0tQie4/Wubz/Zg=="}, DependsOn: []string{"pkg:npm/loose-envify@1.4.0"}},
			"pkg:npm/react-dom@18.3.1":      {Hashes: []string{"sha512-YM2/ll2MO+woZHNGQ1mu++6D+gDT6DSE/nIPHowsudr4x5FgMaviwvJTTTHXoRF4wRyvZ2+g1blR8BY0C082KQ=="}, DependsOn: []string{"pkg:npm/loose-envify@1.4.0", "pkg:npm/react@18.3.1", "pkg:npm/scheduler@0.23.2"}},
			"pkg:npm/scheduler@0.23.2":      {Hashes: []string{"sha512-/IkGAvk7w1qsKI9IeufIMtt+45SyCsBBSlQJOED3kzK+Clxc/VtOM+qPBaim7xZgJMyqrmEibpcx32f3dRZ3GQ=="}, DependsOn: []string{"pkg:npm/loose-envify@1.4.0"}},
			"pkg:npm/string-width@4.2.3":    {Hashes: []string{"sha512-47EHUZ3FbpAJUZy1yzAQ8+cYr30ud/qYXBkZtu18LryniCKpraxPT1YWxqArsh9mZDjHOGoOKmyNXYosjyG0gA=="}},
			"pkg:npm/string-width@5.1.2":    {Hashes: []string{"sha512-HeoaG6L6LHWn3QJoVHuC63JGUb0Xlo/m2MO9h7V8Fe4twk3y2QrV9/70PTH/txaz5rgv4uMNLfJQA8EwhAZ/AQ=="}},
		}},
		{name: "pnpm-lock.yaml.v9", path: "pnpm-lock.yaml", file: "pnpm-lock.yaml.v9", want: map[string]detail{
			// Graph in snapshots (peer suffixes stripped to find packages), alias
			// "string-width@4.2.3", optionalDependencies, a link: left out.
			"pkg:npm/%40isaacs/cliui@8.0.2": {Hashes: []string{"sha512-dQNUEp0WWIQKQZKcF7WrV3Se/W0UR2dmK6JVgahNdU5J7Ub4BSctqOmGekIuijcFlodi/9XWIys3MwHcchvc6w=="}, DependsOn: []string{"pkg:npm/string-width@4.2.3", "pkg:npm/string-width@5.1.2"}},
			"pkg:npm/chokidar@3.6.0":        {Hashes: []string{"sha512-J7lvI1yL+iWjOKB67bDZpUPeDdUHIk1T8vwSF03/pxmTVB9ukSzemGN4YoPFaLuAOe5CMsGuzXIXccloNk2H6w=="}, DependsOn: []string{"pkg:npm/fsevents@2.3.3"}},
			"pkg:npm/fsevents@2.3.3":        {Hashes: []string{"sha512-ooO4QSxscGtRF5OrKsYxCmGrW7zqKYLLG8pkcSCM+hyToKaLqpfpelxLPd+cSUDhQAPRZkhhQIla2opyOj/PAA=="}},
			"pkg:npm/js-tokens@4.0.0":       {Hashes: []string{"sha512-hgvFIIZXEh0qKUvHJA9tb+6uMdEHBUTTBVdE5bnB0HXjEjOjXG0NsMmG74DF0EoiAWA+OCL55ZseKfL6rFqqEw=="}},
			"pkg:npm/loose-envify@1.4.0":    {Hashes: []string{"sha512-p6tV/43Z8c4seu03wSajLEoUgCE8tth0qwIk9TQuGL/l4A1cGuu5pJMkpTfGeg4X8Ex5aYGsz2uKe7iYEkGBGw=="}, DependsOn: []string{"pkg:npm/js-tokens@4.0.0"}},
			"pkg:npm/react@18.3.1":          {Hashes: []string{"sha512-2+1d312Gv/F0ka3L+WanxnvPQ93+m+j2HLOWk54rzWk/lAPxKcimaVSC+kRml1k+lqAEalcc0tQie4/Wubz/Zg=="}, DependsOn: []string{"pkg:npm/loose-envify@1.4.0"}},
			"pkg:npm/react-dom@18.3.1":      {Hashes: []string{"sha512-YM2/ll2MO+woZHNGQ1mu++6D+gDT6DSE/nIPHowsudr4x5FgMaviwvJTTTHXoRF4wRyvZ2+g1blR8BY0C082KQ=="}, DependsOn: []string{"pkg:npm/loose-envify@1.4.0", "pkg:npm/react@18.3.1", "pkg:npm/scheduler@0.23.2"}},
			"pkg:npm/scheduler@0.23.2":      {Hashes: []string{"sha512-/IkGAvk7w1qsKI9IeufIMtt+45SyCsBBSlQJOED3kzK+Clxc/VtOM+qPBaim7xZgJMyqrmEibpcx32f3dRZ3GQ=="}, DependsOn: []string{"pkg:npm/loose-envify@1.4.0"}},
			"pkg:npm/string-width@4.2.3":    {Hashes: []string{"sha512-47EHUZ3FbpAJUZy1yzAQ8+cYr30ud/qYXBkZtu18LryniCKpraxPT1YWxqArsh9mZDjHOGoOKmyNXYosjyG0gA=="}},
			"pkg:npm/string-width@5.1.2":    {Hashes: []string{"sha512-HeoaG6L6LHWn3QJoVHuC63JGUb0Xlo/m2MO9h7V8Fe4twk3y2QrV9/70PTH/txaz5rgv4uMNLfJQA8EwhAZ/AQ=="}},
		}},
		{name: "bun.lock.details", path: "bun.lock", file: "bun.lock.details", want: map[string]detail{
			// Nested install paths resolve as Node does; the GitHub package has no version.
			"pkg:npm/%40types/node@22.7.4": {Hashes: []string{"sha512-d1UPtr928S2nELKWGzf3mMC11fveuNwkdC9kafQopocsLzj9bPIRYW5BcA1r6kRHd6kcWLaqmXaVmizKeeNE+g=="}, DependsOn: []string{"pkg:npm/undici-types@6.19.8"}},
			"pkg:npm/ansi-styles@4.3.0":    {Hashes: []string{"sha512-P2mdWIMNinU8zsINDF1I0n0w+fl7yDveHlBeU54C+MOZLZL13xrrhxMIMl9rV2+RF+1f4Yz3iBH+D2BJFjPPug=="}, DependsOn: []string{"pkg:npm/color-convert@2.0.1"}},
			"pkg:npm/chalk@4.1.2":          {Hashes: []string{"sha512-tuZs5w21yj0mWJSFWzn/P1KbPjKDszFi8jUvyYwvFraLNC9SxaSFLxTd5j3J5sckjw1iQRUAlmZq36Sk8SCPsw=="}, DependsOn: []string{"pkg:npm/ansi-styles@4.3.0", "pkg:npm/supports-color@7.2.0"}},
			"pkg:npm/color-convert@2.0.1":  {Hashes: []string{"sha512-7N+3PBuY07IRNwppKMvnHIrKvju3AlqlSJ/swkrQ7ibVRHmtE7vDOhLDn466osFUhhs9IWhMiSShDaNRzaWF4w=="}, DependsOn: []string{"pkg:npm/color-name@1.1.4"}},
			"pkg:npm/color-name@1.1.4":     {Hashes: []string{"sha512-99TW0nCc0kEHEBO8KSBBTK2UbWv0+fIAQ+5T1GDnD/feXD0Dyu0Enye3WoVF84kAoy2+yO/T0CSt0JfKuy+Gkg=="}},
			"pkg:npm/has-flag@3.0.0":       {Hashes: []string{"sha512-Lvauodpj0Eo2GJh7AtXnOL5ZwoXOqVeDyvHfGY22oME/wejmOKXmLETamhmsjDrDjHCBsQs4rDq8r50jZPAk2A=="}},
			"pkg:npm/has-flag@4.0.0":       {Hashes: []string{"sha512-y7ll80bOIfwFW8ZhK5+DzgKcJ8i9jZ7yBb7o3zh0dneru4lwVepVTqABbWrmEfyriI14avHl9exLALeWqjp8KQ=="}},
			"pkg:npm/supports-color@5.5.0": {Hashes: []string{"sha512-yaXhk1phOraDYY1t5OV9i+0GXB4Sl8lKMvjWbMRF/MYxu8ep1OZbCoOOTY+chY2rg8AbSXFG69KuNalhpxkrbA=="}, DependsOn: []string{"pkg:npm/has-flag@3.0.0"}},
			"pkg:npm/supports-color@7.2.0": {Hashes: []string{"sha512-1p/P53vkRqrhrHX8Zc3X26mMlEy2vNfDuIbvI8nQlL8pBe2IWLvjxcDbWRrmpxzEv/0VQRnvCDJMiN0ezXF77g=="}, DependsOn: []string{"pkg:npm/has-flag@4.0.0"}},
			"pkg:npm/undici-types@6.19.8":  {Hashes: []string{"sha512-mxu5AvRUnGzTgVc9H7zifoC6iX89+B4nZqXIZaIT4e7xwtfE8zSmvUassk/6adH2XYwGYNxCquCMRqsXFY5Fzg=="}},
		}},
		{name: "yarn.lock berry before lock format 6", path: "yarn.lock", content: `# This file is generated by running "yarn install" inside your project.
# Manual changes might be lost - proceed with caution!

__metadata:
  version: 4
  cacheKey: 8

"js-tokens@npm:^3.0.0 || ^4.0.0":
  version: 4.0.0
  resolution: "js-tokens@npm:4.0.0"
  checksum: 8a95213a5a77deb6cbe94d86340e8d9ace2b93bc367790b260101d2f36a2eaf4e4e22d9fa9cf459b38af3a32fb4190e638024cf82ec95ef708680e405ea7cc78
  languageName: node
  linkType: hard

"loose-envify@npm:^1.1.0":
  version: 1.4.0
  resolution: "loose-envify@npm:1.4.0"
  dependencies:
    js-tokens: ^3.0.0 || ^4.0.0
  bin:
    loose-envify: cli.js
  checksum: 6517e24e0cad87ec9888f500c5b5947032cdfe6ef65e1c1936a0c48a524b81e65542c9c3edc91c97d5bddc806ee2a985dbc79be89215d613b1de5db6d1cfe6f4
  languageName: node
  linkType: hard
`, want: map[string]detail{
			"pkg:npm/js-tokens@4.0.0":    {},
			"pkg:npm/loose-envify@1.4.0": {DependsOn: []string{"pkg:npm/js-tokens@4.0.0"}},
		}},
		{name: "pnpm-lock.yaml 5.4", path: "pnpm-lock.yaml", content: `lockfileVersion: 5.4

specifiers:
  '@babel/runtime': ^7.23.2
  react-dom: ^18.2.0

dependencies:
  '@babel/runtime': 7.23.2
  react-dom: 18.2.0_react@18.2.0

packages:

  /@babel/runtime/7.23.2:
    resolution: {integrity: sha512-BR}
    engines: {node: '>=6.9.0'}
    dependencies:
      regenerator-runtime: 0.14.0
    dev: false

  /js-tokens/4.0.0:
    resolution: {integrity: sha512-JT}
    dev: false

  /loose-envify/1.4.0:
    resolution: {integrity: sha512-LE}
    hasBin: true
    dependencies:
      js-tokens: 4.0.0
    dev: false

  /react-dom/18.2.0_react@18.2.0:
    resolution: {integrity: sha512-RD}
    peerDependencies:
      react: ^18.2.0
    dependencies:
      loose-envify: 1.4.0
      react: 18.2.0
      scheduler: 0.23.0
    dev: false

  /react/18.2.0:
    resolution: {integrity: sha512-RE}
    engines: {node: '>=0.10.0'}
    dependencies:
      loose-envify: 1.4.0
    dev: false

  /regenerator-runtime/0.14.0:
    resolution: {integrity: sha512-RR}
    dev: false

  /scheduler/0.23.0:
    resolution: {integrity: sha512-SC}
    dependencies:
      loose-envify: 1.4.0
    dev: false
`, want: map[string]detail{
			"pkg:npm/%40babel/runtime@7.23.2":    {Hashes: []string{"sha512-BR"}, DependsOn: []string{"pkg:npm/regenerator-runtime@0.14.0"}},
			"pkg:npm/js-tokens@4.0.0":            {Hashes: []string{"sha512-JT"}},
			"pkg:npm/loose-envify@1.4.0":         {Hashes: []string{"sha512-LE"}, DependsOn: []string{"pkg:npm/js-tokens@4.0.0"}},
			"pkg:npm/react-dom@18.2.0":           {Hashes: []string{"sha512-RD"}, DependsOn: []string{"pkg:npm/loose-envify@1.4.0", "pkg:npm/react@18.2.0", "pkg:npm/scheduler@0.23.0"}},
			"pkg:npm/react@18.2.0":               {Hashes: []string{"sha512-RE"}, DependsOn: []string{"pkg:npm/loose-envify@1.4.0"}},
			"pkg:npm/regenerator-runtime@0.14.0": {Hashes: []string{"sha512-RR"}},
			"pkg:npm/scheduler@0.23.0":           {Hashes: []string{"sha512-SC"}, DependsOn: []string{"pkg:npm/loose-envify@1.4.0"}},
		}},
		{name: "bun.lock with comments and a scoped nested package", path: "bun.lock", content: `{
  // a comment bun itself does not write, but JSONC allows
  "lockfileVersion": 1,
  "workspaces": { "": { "name": "x", "dependencies": { "a": "^1" } } },
  "packages": {
    "a": ["a@1.0.0", "", { "dependencies": { "@s/b": "^2" } }, "sha512-AA"], /* trailing */
    "@s/b": ["@s/b@1.0.0", "", {}, "sha512-B1"],
    "a/@s/b": ["@s/b@2.0.0", "", { "peerDependencies": { "a": "*" } }, "sha512-B2"],
  },
}`, want: map[string]detail{
			"pkg:npm/a@1.0.0":      {Hashes: []string{"sha512-AA"}, DependsOn: []string{"pkg:npm/%40s/b@2.0.0"}},
			"pkg:npm/%40s/b@1.0.0": {Hashes: []string{"sha512-B1"}},
			"pkg:npm/%40s/b@2.0.0": {Hashes: []string{"sha512-B2"}, DependsOn: []string{"pkg:npm/a@1.0.0"}},
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			content := []byte(tt.content)
			if tt.file != "" {
				content = readTestdata(t, tt.file)
			}
			pkgs, err := Parse(context.Background(), tt.path, content)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]detail{}
			for _, p := range pkgs {
				got[p.PURL()] = detail{p.Hashes, p.DependsOn}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("details (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLockDetailsUnreadable: content the details readers cannot read adds
// nothing and leaves the packages as they are.
func TestLockDetailsUnreadable(t *testing.T) {
	t.Parallel()
	for format := range lockReaders {
		for _, content := range []string{"\x00garbage", "", "{", "[[package]]\nname = 1", "packages: [", `{"packages": 5}`} {
			pkgs := []deps.Package{{Ecosystem: deps.NPM, Name: "a", Version: "1.0.0", Hashes: []string{"sha512-X"}}}
			lockDetails(format, []byte(content), pkgs)
			if want := []string{"sha512-X"}; !cmp.Equal(pkgs[0].Hashes, want) || pkgs[0].DependsOn != nil {
				t.Errorf("%s %q: package changed to %+v", format, content, pkgs[0])
			}
		}
	}
}

// TestLockDetailsBounded: hostile lock files cost bounded time and keep
// bounded details.
func TestLockDetailsBounded(t *testing.T) {
	t.Parallel()
	// A package installed 4,000 levels deep that requires 200 names none of
	// which is installed: resolving each walks the whole path, unless the
	// lookup budget stops it.
	const depth, names = 4000, 200
	var path, npmPath strings.Builder
	npmPath.WriteString("node_modules/a")
	path.WriteString("a")
	for range depth {
		path.WriteString("/a")
		npmPath.WriteString("/node_modules/a")
	}
	var req strings.Builder
	for i := range names {
		fmt.Fprintf(&req, "%q: \"*\",", fmt.Sprintf("missing-%d", i))
	}
	reqs := strings.TrimSuffix(req.String(), ",")
	var hashes strings.Builder
	for i := range 3 * maxHashes {
		fmt.Fprintf(&hashes, `"sha256:%064x",`, i)
	}
	for _, tc := range []struct{ format, content string }{
		{"bun.lock", fmt.Sprintf(`{"packages": {"a": ["a@1.0.0", "", {}], %q: ["a@1.0.0", "", {"dependencies": {%s}}]}}`, path.String(), reqs)},
		{"package-lock.json", fmt.Sprintf(`{"packages": {"node_modules/a": {"version": "1.0.0"}, %q: {"version": "1.0.0", "dependencies": {%s}}}}`, npmPath.String(), reqs)},
		{"Pipfile.lock", fmt.Sprintf(`{"default": {"a": {"version": "==1.0.0", "hashes": [%s]}}}`, strings.TrimSuffix(hashes.String(), ","))},
	} {
		start := time.Now()
		d := lockReaders[tc.format]([]byte(tc.content))
		if elapsed := time.Since(start); elapsed > 10*time.Second {
			t.Errorf("%s: %v", tc.format, elapsed)
		}
		for k, x := range d {
			if len(x.hashes) > maxHashes {
				t.Errorf("%s: %v has %d hashes", tc.format, k, len(x.hashes))
			}
		}
	}
}

func TestStripJSONC(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`{"a": [1, 2,], "b": {"c": 3,},}`:               `{"a": [1, 2 ], "b": {"c": 3 } }`,
		"{\"a\": 1, // x, }\n}":                         "{\"a\": 1  \n}",
		`{"url": "https://x/y,]", /* c */ "q": "\"//"}`: `{"url": "https://x/y,]",   "q": "\"//"}`,
		`["unterminated`:                                `["unterminated`,
		`/* open`:                                       ` `,
	} {
		if got := string(stripJSONC([]byte(in))); got != want {
			t.Errorf("stripJSONC(%q) = %q, want %q", in, got, want)
		}
	}
}
