package celrule

import (
	"fmt"
	"reflect"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
)

// A model is the CEL object type of one variable: its fields, in the order
// of the package doc's table.
type model struct {
	on       string // the rule's "on"
	variable string // pkg, file or finding
	typ      *types.Type
	fields   []field
	index    map[string]int
	ftypes   map[string]*types.FieldType
}

// A field is one typed field of a model. A fact may be unknown.
type field struct {
	name string
	typ  *types.Type
	fact bool
}

func newModel(on, variable, typeName string, fields []field) *model {
	m := &model{
		on:       on,
		variable: variable,
		typ:      types.NewObjectType(typeName, traits.FieldTesterType, traits.IndexerType),
		fields:   fields,
		index:    make(map[string]int, len(fields)),
		ftypes:   make(map[string]*types.FieldType, len(fields)),
	}
	for i, f := range fields {
		m.index[f.name] = i
		m.ftypes[f.name] = &types.FieldType{
			Type: f.typ,
			IsSet: func(target any) bool {
				o, ok := target.(*object)
				return ok && o.m == m && o.vals[i] != nil
			},
			GetFrom: func(target any) (any, error) {
				o, ok := target.(*object)
				if !ok || o.m != m {
					return nil, fmt.Errorf("%s.%s selected on a %T", variable, f.name, target)
				}
				return o.get(i), nil
			},
		}
	}
	return m
}

// object is the value of a variable. A nil entry of vals is an unknown fact.
type object struct {
	m    *model
	vals []ref.Val
}

var (
	_ ref.Val            = (*object)(nil)
	_ traits.Indexer     = (*object)(nil)
	_ traits.FieldTester = (*object)(nil)
)

// unknownID is the expression id of every Unknown a getter makes: getters
// do not know the id, and only the attribute trails are read.
const unknownID = 0

func (o *object) get(i int) ref.Val {
	if v := o.vals[i]; v != nil {
		return v
	}
	attr := types.NewAttributeTrail(o.m.variable)
	types.QualifyAttribute(attr, o.m.fields[i].name)
	return types.NewUnknown(unknownID, attr)
}

// Get selects a field by a dynamic name (dyn(pkg).maintainers).
func (o *object) Get(index ref.Val) ref.Val {
	name, ok := index.(types.String)
	if !ok {
		return types.MaybeNoSuchOverloadErr(index)
	}
	i, ok := o.m.index[string(name)]
	if !ok {
		return types.NewErr("no such field '%s'", name)
	}
	return o.get(i)
}

// IsSet reports whether a field is known.
func (o *object) IsSet(field ref.Val) ref.Val {
	name, ok := field.(types.String)
	if !ok {
		return types.MaybeNoSuchOverloadErr(field)
	}
	i, ok := o.m.index[string(name)]
	if !ok {
		return types.NewErr("no such field '%s'", name)
	}
	return types.Bool(o.vals[i] != nil)
}

func (o *object) ConvertToNative(t reflect.Type) (any, error) {
	return nil, fmt.Errorf("%s cannot be converted to %v", o.m.typ.TypeName(), t)
}

func (o *object) ConvertToType(t ref.Type) ref.Val {
	if t == types.TypeType {
		return o.m.typ
	}
	if t.TypeName() == o.m.typ.TypeName() {
		return o
	}
	return types.NewErr("type conversion error from '%s' to '%s'", o.m.typ.TypeName(), t.TypeName())
}

// Equal compares field by field; an unknown field makes the answer unknown.
func (o *object) Equal(other ref.Val) ref.Val {
	p, ok := other.(*object)
	if !ok || p.m != o.m {
		return types.False
	}
	var unk *types.Unknown
	for i := range o.vals {
		a, b := o.get(i), p.get(i)
		unk, _ = types.MaybeMergeUnknowns(a, unk)
		unk, _ = types.MaybeMergeUnknowns(b, unk)
		if unk == nil && a.Equal(b) != types.True {
			return types.False
		}
	}
	if unk != nil {
		return unk
	}
	return types.True
}

func (o *object) Type() ref.Type { return o.m.typ }
func (o *object) Value() any     { return o }

// provider adds the three models to the standard type registry.
type provider struct {
	types.Provider
}

func (p provider) model(typeName string) *model {
	for _, m := range models {
		if m.typ.TypeName() == typeName {
			return m
		}
	}
	return nil
}

func (p provider) FindStructType(typeName string) (*types.Type, bool) {
	if m := p.model(typeName); m != nil {
		return types.NewTypeTypeWithParam(m.typ), true
	}
	return p.Provider.FindStructType(typeName)
}

func (p provider) FindStructFieldNames(typeName string) ([]string, bool) {
	if m := p.model(typeName); m != nil {
		names := make([]string, len(m.fields))
		for i, f := range m.fields {
			names[i] = f.name
		}
		return names, true
	}
	return p.Provider.FindStructFieldNames(typeName)
}

func (p provider) FindStructFieldType(typeName, fieldName string) (*types.FieldType, bool) {
	if m := p.model(typeName); m != nil {
		ft, ok := m.ftypes[fieldName]
		return ft, ok
	}
	return p.Provider.FindStructFieldType(typeName, fieldName)
}

// NewValue refuses the models: a rule reads its variable, it does not make
// one (and the noStructs validator rejects the attempt at compile time).
func (p provider) NewValue(typeName string, fields map[string]ref.Val) ref.Val {
	if p.model(typeName) != nil {
		return types.NewErr("%s values cannot be created", typeName)
	}
	return p.Provider.NewValue(typeName, fields)
}
